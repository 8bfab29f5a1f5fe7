using System.Text.RegularExpressions;

namespace DiffusionGallery.Web.Generation;

/// <summary>
/// Approximate CLIP token count for the prompt box (x/75): words, numbers and punctuation each count one,
/// long words count one per four characters, as CLIP's BPE splits them. The engine truncates exactly.
/// </summary>
public static partial class PromptTokenCounter
{
    public const int Limit = 75;

    [GeneratedRegex(@"[\p{L}]+|\p{N}|[^\s\p{L}\p{N}]", RegexOptions.CultureInvariant)]
    private static partial Regex Pieces();

    public static int Count(string? prompt)
    {
        if (string.IsNullOrWhiteSpace(prompt)) return 0;
        var count = 0;
        foreach (Match match in Pieces().Matches(prompt.ToLowerInvariant()))
            count += match.Value.Length <= 6 ? 1 : (match.Value.Length + 3) / 4;
        return count;
    }
}
