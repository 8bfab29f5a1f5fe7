using DiffusionGallery.Inference.Metadata;

namespace DiffusionGallery.Inference.Tests.Metadata;

public sealed class A1111ParametersTests
{
    [Fact]
    public void Parse_ReadsTheA1111DocstringExample()
    {
        const string text = "Steps: 20, Sampler: Euler a, CFG scale: 7, Seed: 965400086, Size: 512x512, Model hash: 45dee52b";
        var parsed = A1111Parameters.Parse("girl with an artist's beret, determined, blue eyes, desert scene\nNegative prompt: ugly, fat\n" + text);

        Assert.Equal("girl with an artist's beret, determined, blue eyes, desert scene", parsed.Prompt);
        Assert.Equal("ugly, fat", parsed.NegativePrompt);
        Assert.Equal("Euler a", parsed["Sampler"]);
        Assert.Equal("965400086", parsed["Seed"]);
        Assert.Equal((512, 512), parsed.Size);
        Assert.Equal("45dee52b", parsed["Model hash"]);
    }

    [Fact]
    public void Format_QuotesValuesWithCommasColonsOrNewlines()
    {
        var text = A1111Parameters.Format("p", "", [new("Steps", "20"), new("Model", "a, b"), new("Note", "x: y"), new("Plain", "é")]);

        Assert.Equal("p\nSteps: 20, Model: \"a, b\", Note: \"x: y\", Plain: é", text);
    }

    [Fact]
    public void Format_SkipsNullsOmitsEmptyNegativeAndWritesKeyEqualValueBare()
    {
        var text = A1111Parameters.Format("p", "", [new("Steps", "5"), new("Tiling", "Tiling"), new("VAE", null), new("Seed", "1")]);

        Assert.Equal("p\nSteps: 5, Tiling, Seed: 1", text);
    }

    [Fact]
    public void FormatThenParse_RoundTripsMultilinePromptsAndQuotedValues()
    {
        var text = A1111Parameters.Format("line one\nline two", "bad, worse", [new("Steps", "25"), new("Sampler", "DPM++ 2M"), new("Model", "x, \"y\""), new("Seed", "18446744073709551615")]);
        var parsed = A1111Parameters.Parse(text);

        Assert.Equal("line one\nline two", parsed.Prompt);
        Assert.Equal("bad, worse", parsed.NegativePrompt);
        Assert.Equal("x, \"y\"", parsed["Model"]);
        Assert.Equal("18446744073709551615", parsed["Seed"]);
    }

    [Fact]
    public void Parse_TreatsALastLineWithFewerThanThreeParamsAsPrompt()
    {
        var parsed = A1111Parameters.Parse("a cat\nstyle: oil, mood: calm");

        Assert.Equal("a cat\nstyle: oil, mood: calm", parsed.Prompt);
        Assert.Empty(parsed.Settings);
    }

    [Theory]
    [InlineData("DPM++ 2M Karras", null, true)]
    [InlineData("DPM++ 2M", "Karras", true)]
    [InlineData("Euler a", null, false)]
    public void SamplerNames_ParseOldAndNewKarrasForms(string name, string? schedule, bool karras)
    {
        var parsed = A1111SamplerNames.FromA1111(name, schedule);

        Assert.NotNull(parsed);
        Assert.Equal(karras, parsed.Value.Karras);
        Assert.Equal(name.Replace(" Karras", ""), A1111SamplerNames.ToA1111(parsed.Value.Kind));
    }
}
