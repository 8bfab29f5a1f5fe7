using System.Globalization;
using DiffusionGallery.Web.Data.Entities;

namespace DiffusionGallery.Web.Sharing;

/// <summary>What changed from a parent image to its remix, as short labels: "prompt + red circle", "steps 20 → 30", "sampler Euler a → DPM++ 2M".</summary>
public static class LineageDiff
{
    public const string SettingsHidden = "settings hidden";

    /// <param name="showSettings">False when either image hides its prompt from this viewer: then nothing of either is compared.</param>
    public static IReadOnlyList<string> Describe(GeneratedImage parent, GeneratedImage child, bool showSettings)
    {
        ArgumentNullException.ThrowIfNull(parent);
        ArgumentNullException.ThrowIfNull(child);
        if (!showSettings) return [SettingsHidden];
        var (p, c) = (parent.Settings, child.Settings);
        var diff = new List<string>();
        Words(diff, "prompt", p.Prompt, c.Prompt);
        Words(diff, "negative prompt", p.NegativePrompt, c.NegativePrompt);
        Change(diff, "model", parent.ModelName, child.ModelName);
        Change(diff, "sampler", SharedImageReader.SamplerLabel(p), SharedImageReader.SamplerLabel(c));
        Change(diff, "steps", p.Steps, c.Steps);
        Change(diff, "CFG", p.GuidanceScale, c.GuidanceScale);
        Change(diff, "size", $"{parent.Width}×{parent.Height}", $"{child.Width}×{child.Height}");
        Change(diff, "temperature", p.Temperature, c.Temperature);
        Change(diff, "seed", parent.Seed, child.Seed);
        return diff;
    }

    /// <summary>Words (split at spaces and commas, case-insensitive) added and removed, in their order of appearance.</summary>
    public static (IReadOnlyList<string> Added, IReadOnlyList<string> Removed) WordChanges(string before, string after)
    {
        var old = Split(before);
        var @new = Split(after);
        return (Subtract(@new, old), Subtract(old, @new));
    }

    private static void Words(List<string> diff, string label, string before, string after)
    {
        var (added, removed) = WordChanges(before, after);
        if (added.Count > 0) diff.Add($"{label} + {string.Join(' ', added)}");
        if (removed.Count > 0) diff.Add($"{label} − {string.Join(' ', removed)}");
    }

    private static void Change<T>(List<string> diff, string label, T before, T after) where T : IFormattable
    {
        if (!EqualityComparer<T>.Default.Equals(before, after))
            diff.Add($"{label} {before.ToString(null, CultureInfo.InvariantCulture)} → {after.ToString(null, CultureInfo.InvariantCulture)}");
    }

    private static void Change(List<string> diff, string label, string before, string after)
    {
        if (!string.Equals(before, after, StringComparison.Ordinal)) diff.Add($"{label} {before} → {after}");
    }

    private static List<string> Split(string text) =>
        text.Split([' ', ',', '\n', '\r', '\t'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).ToList();

    /// <summary>Multiset difference: each word of <paramref name="from"/> not matched by one in <paramref name="minus"/>.</summary>
    private static List<string> Subtract(List<string> from, List<string> minus)
    {
        var counts = minus.GroupBy(w => w, StringComparer.OrdinalIgnoreCase).ToDictionary(g => g.Key, g => g.Count(), StringComparer.OrdinalIgnoreCase);
        var result = new List<string>();
        foreach (var word in from)
        {
            if (counts.TryGetValue(word, out var n) && n > 0) counts[word] = n - 1;
            else result.Add(word);
        }
        return result;
    }
}
