using System.Text.RegularExpressions;
using Microsoft.ML.Tokenizers;

namespace DiffusionGallery.Inference.Tokenization;

/// <summary>
/// CLIP's byte-level BPE (transformers <c>CLIPTokenizer</c> without ftfy) on Microsoft.ML.Tokenizers:
/// whitespace clean-up and lower-casing, the CLIP pre-tokenizer regex, <c>&lt;/w&gt;</c> end-of-word
/// suffix, BOS/EOS added here, sequences of <see cref="MaxLength"/> padded with the pad token.
/// </summary>
public sealed partial class ClipTokenizer
{
    public const int MaxLength = 77;
    public const string StartOfText = "<|startoftext|>";
    public const string EndOfText = "<|endoftext|>";

    private readonly BpeTokenizer _bpe;

    private ClipTokenizer(BpeTokenizer bpe, int bosId, int eosId, int padId)
    {
        _bpe = bpe;
        BosId = bosId;
        EosId = eosId;
        PadId = padId;
    }

    public int BosId { get; }
    public int EosId { get; }
    public int PadId { get; }

    /// <summary>Room for content tokens between BOS and EOS.</summary>
    public static int ContentLength => MaxLength - 2;

    /// <summary>Loads <c>vocab.json</c> and <c>merges.txt</c> from a diffusers <c>tokenizer/</c> folder.</summary>
    /// <param name="padToken">Pad token; null reads <c>special_tokens_map.json</c> (SD2 pads with "!"), else <c>&lt;|endoftext|&gt;</c>.</param>
    public static ClipTokenizer Load(string folder, string? padToken = null)
    {
        var vocabPath = Path.Combine(folder, "vocab.json");
        var mergesPath = Path.Combine(folder, "merges.txt");
        using var vocab = File.OpenRead(vocabPath);
        using var merges = File.OpenRead(mergesPath);
        padToken ??= ReadPadToken(folder) ?? EndOfText;
        return Create(vocab, merges, padToken);
    }

    public static ClipTokenizer Create(Stream vocab, Stream merges, string padToken = EndOfText)
    {
        var options = new BpeOptions(ReadVocabulary(vocab))
        {
            Merges = ReadMerges(merges),
            PreTokenizer = new RegexPreTokenizer(PreTokenizerPattern(), null),
            UnknownToken = EndOfText,
            EndOfWordSuffix = "</w>",
            ByteLevel = true,
        };
        var bpe = BpeTokenizer.Create(options);
        int Id(string token) => bpe.Vocabulary.TryGetValue(token, out var id)
            ? id
            : throw new InvalidDataException($"tokenizer vocab.json has no '{token}' token");
        return new ClipTokenizer(bpe, Id(StartOfText), Id(EndOfText), Id(padToken));
    }

    /// <summary>Content token ids (no BOS/EOS, no truncation) of text after CLIP normalisation.</summary>
    public IReadOnlyList<int> EncodeContent(string text)
    {
        var normalized = Normalize(text);
        if (normalized.Length == 0)
            return [];
        var ids = new List<int>();
        foreach (Match piece in PreTokenizerPattern().Matches(normalized))
        {
            if (piece.Value == StartOfText)
                ids.Add(BosId);
            else if (piece.Value == EndOfText)
                ids.Add(EosId);
            else
                ids.AddRange(_bpe.EncodeToIds(piece.Value, considerPreTokenization: false, considerNormalization: false));
        }

        return ids;
    }

    /// <summary>[BOS, up to 75 tokens, EOS, pad…] of length 77, and how many content tokens were cut off.</summary>
    public TokenizedPrompt Encode(string text) => Pack(EncodeContent(text));

    /// <summary>Wraps content ids in BOS/EOS, truncating to 75 and padding to 77.</summary>
    public TokenizedPrompt Pack(IReadOnlyList<int> content)
    {
        var ids = new int[MaxLength];
        var kept = Math.Min(content.Count, ContentLength);
        ids[0] = BosId;
        for (var i = 0; i < kept; i++)
            ids[i + 1] = content[i];
        ids[kept + 1] = EosId;
        for (var i = kept + 2; i < MaxLength; i++)
            ids[i] = PadId;
        return new TokenizedPrompt(ids, content.Count - kept);
    }

    /// <summary>transformers' <c>whitespace_clean</c> followed by lower-casing.</summary>
    public static string Normalize(string text) => WhitespaceRuns().Replace(text, " ").Trim().ToLowerInvariant();

    private static Dictionary<string, int> ReadVocabulary(Stream stream) =>
        System.Text.Json.JsonSerializer.Deserialize<Dictionary<string, int>>(stream)
        ?? throw new InvalidDataException("tokenizer vocab.json is empty");

    private static List<string> ReadMerges(Stream stream)
    {
        using var reader = new StreamReader(stream);
        var merges = new List<string>();
        while (reader.ReadLine() is { } line)
        {
            if (line.StartsWith("#version", StringComparison.Ordinal) || line.Trim().Length == 0)
                continue;
            merges.Add(line.Trim());
        }

        return merges;
    }

    private static string? ReadPadToken(string folder)
    {
        var path = Path.Combine(folder, "special_tokens_map.json");
        if (!File.Exists(path))
            return null;
        using var doc = System.Text.Json.JsonDocument.Parse(File.ReadAllText(path));
        if (!doc.RootElement.TryGetProperty("pad_token", out var pad))
            return null;
        return pad.ValueKind switch
        {
            System.Text.Json.JsonValueKind.String => pad.GetString(),
            System.Text.Json.JsonValueKind.Object when pad.TryGetProperty("content", out var c) => c.GetString(),
            _ => null,
        };
    }

    [GeneratedRegex(@"<\|startoftext\|>|<\|endoftext\|>|'s|'t|'re|'ve|'m|'ll|'d|[\p{L}]+|[\p{N}]|[^\s\p{L}\p{N}]+", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)]
    private static partial Regex PreTokenizerPattern();

    [GeneratedRegex(@"\s+")]
    private static partial Regex WhitespaceRuns();
}

/// <summary>77 token ids and the number of content tokens dropped by truncation.</summary>
public sealed record TokenizedPrompt(int[] Ids, int Truncated);
