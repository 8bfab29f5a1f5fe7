using DiffusionGallery.Web.Sharing;

namespace DiffusionGallery.Web.Tests.Sharing;

public sealed class HandlesTests
{
    [Theory]
    [InlineData("ab")]
    [InlineData("-dash-first")]
    [InlineData("has space")]
    [InlineData("émile")]
    [InlineData("admin")]
    [InlineData("a234567890123456789012345678901")]
    public void Validate_RejectsBadHandles(string handle) => Assert.NotNull(Handles.Validate(Handles.Normalize(handle)));

    [Theory]
    [InlineData("Misty-Otter_7", "misty-otter_7")]
    [InlineData("  bob  ", "bob")]
    public void Normalize_LowerCasesAndTrims_ThenValid(string input, string expected)
    {
        Assert.Equal(expected, Handles.Normalize(input));
        Assert.Null(Handles.Validate(Handles.Normalize(input)));
    }

    [Fact]
    public void Generate_GivesValidHandles()
    {
        for (var i = 0; i < 200; i++) Assert.Null(Handles.Validate(Handles.Generate()));
    }

    [Fact]
    public void CleanDisplayName_DropsControlCharacters_AndLimitsLength()
    {
        Assert.Equal("Ann Lee", Handles.CleanDisplayName(" Ann\u0000 Lee\n"[..^1]));
        Assert.Null(Handles.CleanDisplayName("   "));
        Assert.Equal(Handles.MaxDisplayNameLength, Handles.CleanDisplayName(new string('x', 500))!.Length);
    }
}
