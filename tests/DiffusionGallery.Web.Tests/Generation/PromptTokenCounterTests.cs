using DiffusionGallery.Web.Generation;

namespace DiffusionGallery.Web.Tests.Generation;

public sealed class PromptTokenCounterTests
{
    [Theory]
    [InlineData("", 0)]
    [InlineData("a red circle", 3)]
    [InlineData("a red circle, on blue", 6)]
    [InlineData("photorealistic", 4)]
    public void Count_CountsWordsAndPunctuation(string prompt, int expected) => Assert.Equal(expected, PromptTokenCounter.Count(prompt));

    [Fact]
    public void Count_LongPrompt_PassesLimit() =>
        Assert.True(PromptTokenCounter.Count(string.Join(' ', Enumerable.Repeat("red", 80))) > PromptTokenCounter.Limit);
}
