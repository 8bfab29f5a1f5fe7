using System.Globalization;
using System.Text.RegularExpressions;

namespace DiffusionGallery.Inference.Prompting;

/// <summary>A run of prompt text and the attention weight its tokens get.</summary>
public sealed record PromptFragment(string Text, float Weight);

/// <summary>
/// AUTOMATIC1111 emphasis syntax: <c>(text)</c> ×1.1, <c>[text]</c> ÷1.1, <c>(text:1.3)</c> sets the weight,
/// nesting multiplies, <c>\(</c> <c>\)</c> <c>\[</c> <c>\]</c> <c>\\</c> are literal characters, unbalanced brackets
/// apply to the end. Adjacent fragments of equal weight are merged.
/// </summary>
public static partial class PromptAttentionParser
{
    private const double RoundMultiplier = 1.1;
    private const double SquareMultiplier = 1 / 1.1;

    public static IReadOnlyList<PromptFragment> Parse(string prompt)
    {
        var texts = new List<string>();
        var weights = new List<double>();
        var round = new Stack<int>();
        var square = new Stack<int>();

        void MultiplyFrom(int start, double factor)
        {
            for (var i = start; i < weights.Count; i++)
                weights[i] *= factor;
        }

        foreach (Match m in Token().Matches(prompt))
        {
            var text = m.Value;
            var weight = m.Groups[1];
            if (text.StartsWith('\\'))
            {
                texts.Add(text[1..]);
                weights.Add(1.0);
            }
            else if (text == "(")
                round.Push(texts.Count);
            else if (text == "[")
                square.Push(texts.Count);
            else if (weight.Success && round.Count > 0 && double.TryParse(weight.Value, NumberStyles.Float, CultureInfo.InvariantCulture, out var w))
                MultiplyFrom(round.Pop(), w);
            else if (text == ")" && round.Count > 0)
                MultiplyFrom(round.Pop(), RoundMultiplier);
            else if (text == "]" && square.Count > 0)
                MultiplyFrom(square.Pop(), SquareMultiplier);
            else
            {
                texts.Add(text);
                weights.Add(1.0);
            }
        }

        foreach (var start in round)
            MultiplyFrom(start, RoundMultiplier);
        foreach (var start in square)
            MultiplyFrom(start, SquareMultiplier);

        var result = new List<PromptFragment>();
        for (var i = 0; i < texts.Count; i++)
        {
            var w = (float)weights[i];
            if (result.Count > 0 && result[^1].Weight == w)
                result[^1] = result[^1] with { Text = result[^1].Text + texts[i] };
            else
                result.Add(new PromptFragment(texts[i], w));
        }

        return result.Count == 0 ? [new PromptFragment("", 1f)] : result;
    }

    /// <summary>Escapes text so that it parses back as literal characters of weight 1.</summary>
    public static string Escape(string text) =>
        text.Replace(@"\", @"\\").Replace("(", @"\(").Replace(")", @"\)").Replace("[", @"\[").Replace("]", @"\]");

    [GeneratedRegex(@"\\\(|\\\)|\\\[|\\\]|\\\\|\\|\(|\[|:\s*([+-]?[.\d]+)\s*\)|\)|\]|[^\\()\[\]:]+|:")]
    private static partial Regex Token();
}
