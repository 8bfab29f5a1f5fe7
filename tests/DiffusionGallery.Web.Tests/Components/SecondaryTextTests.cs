using System.Text.RegularExpressions;
using DiffusionGallery.Web.Tests.Support;

namespace DiffusionGallery.Web.Tests.Components;

/// <summary>Status, help and caption text is the theme's secondary TEXT colour (grey), never the secondary ACCENT colour
/// (pink, kept for likes): "No daily limit" and "Your image appears here…" in pink read as warnings.</summary>
public sealed partial class SecondaryTextTests
{
    [GeneratedRegex(@"<MudText\b[^>]*>", RegexOptions.Singleline)]
    private static partial Regex MudTextTag();

    [Fact]
    public void NoMudTextIsColouredWithTheAccentSecondary()
    {
        var root = Path.Combine(RepoPaths.Root, "src", "DiffusionGallery.Web", "Components");
        var offending = Directory.EnumerateFiles(root, "*.razor", SearchOption.AllDirectories)
            .SelectMany(file => MudTextTag().Matches(File.ReadAllText(file)).Select(m => (File: Path.GetRelativePath(root, file), Tag: m.Value)))
            .Where(t => t.Tag.Contains("Color.Secondary", StringComparison.Ordinal))
            .Select(t => $"{t.File}: {t.Tag}")
            .ToList();

        Assert.Empty(offending);
        Assert.Contains("mud-text-secondary", File.ReadAllText(Path.Combine(root, "Pages", "Generate", "Generate.razor")));
    }
}
