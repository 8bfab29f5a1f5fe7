using DiffusionGallery.Inference.Abstractions;
using DiffusionGallery.Web.Tests.Support;

namespace DiffusionGallery.Web.Tests.Generation;

public sealed class GenerationRequestFactoryTests
{
    [Theory]
    [InlineData(nameof(Data.Entities.GenerationSettings.Width), 100, "Width must be a multiple of 8")]
    [InlineData(nameof(Data.Entities.GenerationSettings.Height), 4096, "Height must be a multiple of 8")]
    [InlineData(nameof(Data.Entities.GenerationSettings.GuidanceScale), 31, "CFG scale must be between")]
    [InlineData(nameof(Data.Entities.GenerationSettings.GuidanceScale), float.NaN, "CFG scale must be between")]
    [InlineData(nameof(Data.Entities.GenerationSettings.Temperature), -0.5, "Temperature must be between")]
    [InlineData(nameof(Data.Entities.GenerationSettings.BatchCount), 5, "Batch count must be between")]
    [InlineData(nameof(Data.Entities.GenerationSettings.Sampler), 99, "Unknown sampler")]
    public void Create_OutOfRange_ThrowsClearMessage(string property, double value, string message)
    {
        using var h = new QueueHarness();
        var settings = QueueHarness.Settings();
        switch (property)
        {
            case "Width": settings.Width = (int)value; break;
            case "Height": settings.Height = (int)value; break;
            case "GuidanceScale": settings.GuidanceScale = (float)value; break;
            case "Temperature": settings.Temperature = (float)value; break;
            case "BatchCount": settings.BatchCount = (int)value; break;
            case "Sampler": settings.Sampler = (SamplerKind)(int)value; break;
        }

        var ex = Assert.Throws<InvalidGenerationRequestException>(() => h.RequestFactory.Create(settings));
        Assert.Contains(message, ex.Message);
    }

    [Fact]
    public void Create_PromptTooLong_Rejected()
    {
        using var h = new QueueHarness();
        var settings = QueueHarness.Settings(prompt: new string('a', h.Options.MaxPromptLength + 1));
        Assert.Contains("longer than", Assert.Throws<InvalidGenerationRequestException>(() => h.RequestFactory.Create(settings)).Message);
    }

    [Fact]
    public void Create_EngineValidationStillApplies()
    {
        using var h = new QueueHarness(new Options.GenerationOptions { MaxSteps = 200 });
        var ex = Assert.Throws<InvalidGenerationRequestException>(() => h.RequestFactory.Create(QueueHarness.Settings(steps: 180)));
        Assert.Contains("engine", ex.Message);
    }

    [Fact]
    public void Create_ValidSettings_MapEveryField()
    {
        using var h = new QueueHarness();
        var settings = QueueHarness.Settings(prompt: "  a red circle  ", steps: 12, seed: -5, batch: 3);
        settings.NegativePrompt = "blurry";
        settings.Sampler = SamplerKind.EulerAncestral;
        settings.GuidanceScale = 4.5f;
        settings.Temperature = 0.8f;
        settings.Width = 192;

        var request = h.RequestFactory.Create(settings);

        Assert.Equal("a red circle", request.Prompt);
        Assert.Equal("blurry", request.NegativePrompt);
        Assert.Equal("tiny-shapes", request.Model);
        Assert.Equal(SamplerKind.EulerAncestral, request.Sampler);
        Assert.Equal(12, request.Steps);
        Assert.Equal(4.5f, request.GuidanceScale);
        Assert.Equal(0.8f, request.Temperature);
        Assert.Equal(-5, request.Seed);
        Assert.Equal(3, request.BatchSize);
        Assert.Equal((192, 128), (request.Width, request.Height));
        Assert.Equal(h.Options.PreviewInterval, request.PreviewInterval);
    }

    [Theory]
    [InlineData(SamplerKind.DpmPlusPlus2M)]
    [InlineData(SamplerKind.Euler)]
    [InlineData(SamplerKind.EulerAncestral)]
    [InlineData(SamplerKind.Lms)]
    public void Create_KarrasSigmas_PassedToSamplersThatUseSigmas(SamplerKind sampler)
    {
        using var h = new QueueHarness();
        var settings = QueueHarness.Settings();
        settings.Sampler = sampler;
        settings.KarrasSigmas = true;

        var request = h.RequestFactory.Create(settings);

        Assert.Equal(sampler, request.Sampler);
        Assert.True(request.KarrasSigmas);
        settings.KarrasSigmas = false;
        Assert.False(h.RequestFactory.Create(settings).KarrasSigmas);
    }

    [Theory]
    [InlineData(SamplerKind.Ddim)]
    [InlineData(SamplerKind.Ddpm)]
    [InlineData(SamplerKind.Lcm)]
    public void Create_KarrasSigmas_DroppedForSamplersWithoutSigmas(SamplerKind sampler)
    {
        using var h = new QueueHarness();
        var settings = QueueHarness.Settings();
        settings.Sampler = sampler;
        settings.KarrasSigmas = true;

        var request = h.RequestFactory.Create(settings);

        Assert.Equal(sampler, request.Sampler);
        Assert.False(request.KarrasSigmas);
    }
}
