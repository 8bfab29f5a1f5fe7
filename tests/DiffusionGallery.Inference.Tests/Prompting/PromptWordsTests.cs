using DiffusionGallery.Inference.Prompting;

namespace DiffusionGallery.Inference.Tests.Prompting;

public sealed class PromptWordsTests
{
    [Fact]
    public void Emphasis_CaseAndPunctuation_AreDropped() =>
        Assert.Equal(["a", "red", "circle", "blue", "background"], PromptWords.Split("A (Red:1.2) Circle, [[blue]] background!"));

    [Fact]
    public void EscapedBrackets_AreNotPartOfWords() =>
        Assert.Equal(["a", "red", "circle"], PromptWords.Split(@"a \(red\) circle"));

    [Fact]
    public void Numbers_AreIgnored_ButWordsWithDigitsAreKept() =>
        Assert.Equal(["circles", "at", "scale", "dots", "8k"], PromptWords.Split("3 circles at 1.5 scale, 1,000 dots, 8k"));

    [Fact]
    public void ExtraNetworkTagsAndBreak_AreIgnored() =>
        Assert.Equal(["a", "red", "circle", "on", "blue", "break"], PromptWords.Split("a red circle <lora:shapes:0.8> BREAK on blue, break"));

    [Fact]
    public void HyphensUnderscoresAndPossessives_SeparateWords() =>
        Assert.Equal(["top", "left", "red", "circle", "edge", "don't"], PromptWords.Split("top-left red_circle’s edge; don't"));

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("  ,;() 12 ")]
    public void NoWords_GivesAnEmptyList(string? prompt) => Assert.Empty(PromptWords.Split(prompt));
}
