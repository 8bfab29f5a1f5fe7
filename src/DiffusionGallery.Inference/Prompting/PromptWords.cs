using System.Text.RegularExpressions;

namespace DiffusionGallery.Inference.Prompting;

/// <summary>
/// The words of a prompt as a model's captions spell them: lower case, without AUTOMATIC1111 emphasis
/// (<c>(red:1.2)</c>, <c>[blue]</c>), extra-network tags (<c>&lt;lora:name:0.8&gt;</c>), the <c>BREAK</c> keyword,
/// numbers, punctuation and possessive <c>'s</c>. Hyphens and underscores separate words ("top-left", "red_circle").
/// </summary>
public static partial class PromptWords
{
    public static IReadOnlyList<string> Split(string? prompt)
    {
        if (string.IsNullOrWhiteSpace(prompt))
            return [];
        var plain = string.Join(' ', PromptAttentionParser.Parse(ExtraNetworkTag().Replace(prompt, " ")).Select(f => f.Text));
        var words = new List<string>();
        foreach (Match m in Word().Matches(BreakKeyword().Replace(plain, " ")))
        {
            if (m.Groups["number"].Success)
                continue;
            var word = m.Value.Replace('’', '\'').ToLowerInvariant();
            if (word.EndsWith("'s", StringComparison.Ordinal))
                word = word[..^2];
            words.Add(word);
        }
        return words;
    }

    [GeneratedRegex(@"<[^<>]*>")]
    private static partial Regex ExtraNetworkTag();

    [GeneratedRegex(@"\bBREAK\b")]
    private static partial Regex BreakKeyword();

    // a number ("2", "1.2", "1,000") unless letters follow ("8k" is a word); words may hold inner apostrophes
    [GeneratedRegex(@"(?<number>\p{N}+(?:[.,]\p{N}+)*(?![\p{L}\p{N}]))|[\p{L}\p{N}]+(?:['’][\p{L}\p{N}]+)*")]
    private static partial Regex Word();
}
