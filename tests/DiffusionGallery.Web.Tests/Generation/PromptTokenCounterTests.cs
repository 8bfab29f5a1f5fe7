using DiffusionGallery.Web.Generation;
using DiffusionGallery.Web.Tests.Support;

namespace DiffusionGallery.Web.Tests.Generation;

public sealed class PromptTokenCounterTests
{
    private readonly ClipPromptTokenCounter _counter = new(BundledModel.Generator);

    [Theory]
    [InlineData("", 0)]
    [InlineData("a red circle", 3)]
    [InlineData("a red circle, on blue", 6)]
    [InlineData("(red:1.3) circle", 2)]
    public void Count_UsesTheModelsClipTokenizer(string prompt, int expected) => Assert.Equal(expected, _counter.Count(prompt, "tiny-shapes"));

    [Fact]
    public void Count_LongPrompt_PassesLimitOf75()
    {
        Assert.Equal(75, ClipPromptTokenCounter.Limit);
        Assert.Equal(80, _counter.Count(string.Join(' ', Enumerable.Repeat("red", 80)), null));
    }
}
