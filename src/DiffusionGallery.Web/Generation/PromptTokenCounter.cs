using System.Collections.Concurrent;
using DiffusionGallery.Inference.Pipeline;
using DiffusionGallery.Inference.Prompting;
using DiffusionGallery.Inference.Tokenization;

namespace DiffusionGallery.Web.Generation;

/// <summary>Counts prompt tokens as the model's text encoder will see them (for the x/75 counter).</summary>
public interface IPromptTokenCounter
{
    int Count(string? prompt, string? model);
}

/// <summary>
/// Exact count with the model's own CLIP BPE tokenizer (from its tokenizer/ folder), after removing
/// emphasis syntax such as <c>(word:1.2)</c>, as the engine does.
/// </summary>
public sealed class ClipPromptTokenCounter(DiffusionImageGenerator generator) : IPromptTokenCounter
{
    /// <summary>Tokens the text encoder reads; the rest of a longer prompt is cut off.</summary>
    public static int Limit => ClipTokenizer.ContentLength;

    private readonly ConcurrentDictionary<string, ClipTokenizer> _tokenizers = new(StringComparer.Ordinal);

    public int Count(string? prompt, string? model)
    {
        if (string.IsNullOrWhiteSpace(prompt)) return 0;
        var info = generator.ResolveModel(string.IsNullOrEmpty(model) ? null : model);
        var tokenizer = _tokenizers.GetOrAdd(info.Name, _ => ClipTokenizer.Load(Path.Combine(info.Folder, "tokenizer")));
        var text = string.Join(" ", PromptAttentionParser.Parse(prompt).Select(fragment => fragment.Text));
        return tokenizer.EncodeContent(text).Count;
    }
}
