using System.Text.RegularExpressions;
using DiffusionGallery.Web.Tests.Support;

namespace DiffusionGallery.Web.Tests.Components;

/// <summary>The app's stylesheet styles the account forms' wrappers, never MudBlazor's spacing utilities: a global
/// ".mb-3 { flex-direction: column-reverse }" once put the remix banner's close button above its content and a
/// collection's thumbnails above its name.</summary>
public sealed partial class AppCssTests
{
    [GeneratedRegex(@"(?<selectors>[^{}]+)\{(?<body>[^}]*)\}")]
    private static partial Regex Rule();

    [GeneratedRegex(@"(^|[\s,>+~])\.(m|p)[trblaxy]?-\d+\b")]
    private static partial Regex SpacingClass();

    [Fact]
    public void NoRuleRestylesASpacingUtilityClass()
    {
        var css = Regex.Replace(File.ReadAllText(Path.Combine(RepoPaths.Root, "wwwroot", "app.css")), @"/\*.*?\*/", "", RegexOptions.Singleline);

        var offending = Rule().Matches(css).Select(m => m.Groups["selectors"].Value.Trim()).Where(s => SpacingClass().IsMatch(s)).ToList();

        Assert.Empty(offending);
    }
}
