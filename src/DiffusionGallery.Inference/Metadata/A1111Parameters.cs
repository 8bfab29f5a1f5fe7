using System.Globalization;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace DiffusionGallery.Inference.Metadata;

/// <summary>
/// AUTOMATIC1111's <c>parameters</c> text ("infotext"): prompt lines, an optional
/// <c>Negative prompt:</c> line, then one line of <c>Key: value</c> pairs joined by ", ".
/// Writing follows <c>create_infotext</c>; parsing follows <c>parse_generation_parameters</c>.
/// </summary>
public sealed partial record A1111Parameters
{
    public string Prompt { get; init; } = "";
    public string NegativePrompt { get; init; } = "";

    /// <summary>Key/value pairs of the last line, in order. Sizes are kept whole ("Size" → "128x128").</summary>
    public IReadOnlyList<KeyValuePair<string, string>> Settings { get; init; } = [];

    public string? this[string key] => Settings.FirstOrDefault(kv => kv.Key == key).Value;

    private static readonly JsonSerializerOptions QuoteOptions = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    /// <summary>The infotext; null values are skipped, values with ',', ':' or a newline are JSON-quoted.</summary>
    public static string Format(string prompt, string negativePrompt, IEnumerable<KeyValuePair<string, string?>> settings)
    {
        var parts = settings
            .Where(kv => kv.Value is not null)
            .Select(kv => kv.Key == kv.Value ? kv.Key : $"{kv.Key}: {Quote(kv.Value!)}");
        var negative = negativePrompt.Length > 0 ? $"\nNegative prompt: {negativePrompt}" : "";
        return $"{prompt}{negative}\n{string.Join(", ", parts)}".Trim();
    }

    public override string ToString() => Format(Prompt, NegativePrompt, Settings.Select(kv => new KeyValuePair<string, string?>(kv.Key, kv.Value)));

    /// <summary>A1111's <c>quote</c>: JSON string syntax (without ASCII escaping) when the value needs it.</summary>
    public static string Quote(string value) =>
        value.Contains(',') || value.Contains('\n') || value.Contains(':')
            ? JsonSerializer.Serialize(value, QuoteOptions)
            : value;

    /// <summary>Parses infotext written by A1111 or by us; missing keys are simply absent.</summary>
    public static A1111Parameters Parse(string text)
    {
        var lines = text.Trim().Split('\n').ToList();
        var last = lines[^1];
        lines.RemoveAt(lines.Count - 1);
        if (Param().Matches(last).Count < 3)
        {
            lines.Add(last);
            last = "";
        }

        var prompt = new StringBuilder();
        var negative = new StringBuilder();
        var inNegative = false;
        foreach (var raw in lines)
        {
            var line = raw.Trim();
            if (line.StartsWith("Negative prompt:", StringComparison.Ordinal))
            {
                inNegative = true;
                line = line[16..].Trim();
            }

            var target = inNegative ? negative : prompt;
            if (target.Length > 0)
                target.Append('\n');
            target.Append(line);
        }

        var settings = new List<KeyValuePair<string, string>>();
        foreach (Match m in Param().Matches(last))
        {
            var value = m.Groups[2].Value;
            if (value.Length >= 2 && value[0] == '"' && value[^1] == '"')
            {
                try
                {
                    value = JsonSerializer.Deserialize<string>(value) ?? value;
                }
                catch (JsonException)
                {
                    // A1111 keeps the raw text when unquoting fails.
                }
            }

            settings.Add(new(m.Groups[1].Value, value));
        }

        return new A1111Parameters { Prompt = prompt.ToString(), NegativePrompt = negative.ToString(), Settings = settings };
    }

    /// <summary>Size "WxH" split as A1111 does into (width, height); null when absent or malformed.</summary>
    public (int Width, int Height)? Size
    {
        get
        {
            var m = this["Size"] is { } s ? SizeValue().Match(s) : null;
            return m is { Success: true }
                ? (int.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture), int.Parse(m.Groups[2].Value, CultureInfo.InvariantCulture))
                : null;
        }
    }

    [GeneratedRegex("""\s*(\w[\w \-/]+):\s*("(?:\\.|[^\\"])+"|[^,]*)(?:,|$)""")]
    private static partial Regex Param();

    [GeneratedRegex(@"^(\d+)x(\d+)$")]
    private static partial Regex SizeValue();
}
