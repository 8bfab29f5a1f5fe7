using DiffusionGallery.Inference.Abstractions;
using DiffusionGallery.Web.Errors;
using DiffusionGallery.Web.Tests.Support;

namespace DiffusionGallery.Web.Tests.Generation;

public sealed class GenerationRequestFactoryTests
{
    private static GenerationRequest Create(QueueHarness h, Data.Entities.GenerationSettings settings) =>
        h.RequestFactory.ToEngineRequest(h.RequestFactory.Validate(settings));

    [Fact]
    public void Validate_EveryProblemAtOnce_OneMessagePerField()
    {
        using var h = new QueueHarness();
        var settings = QueueHarness.Settings(prompt: " ", steps: 9999);
        settings.GuidanceScale = 999;
        settings.Temperature = 50;

        var ex = Assert.Throws<RequestInvalidException>(() => h.RequestFactory.Validate(settings));

        Assert.Equal(["guidanceScale", "prompt", "steps", "temperature"], ex.FieldErrors.Keys.Order());
        Assert.Equal("Steps must be between 1 and 100.", Assert.Single(ex.FieldErrors["steps"]));
    }

    [Theory]
    [InlineData(nameof(Data.Entities.GenerationSettings.Width), 100, "Width must be a multiple of 8", "width")]
    [InlineData(nameof(Data.Entities.GenerationSettings.Height), 4096, "Height must be a multiple of 8", "height")]
    [InlineData(nameof(Data.Entities.GenerationSettings.GuidanceScale), 31, "CFG scale must be between 0 and 30", "guidanceScale")]
    [InlineData(nameof(Data.Entities.GenerationSettings.GuidanceScale), float.NaN, "CFG scale must be between", "guidanceScale")]
    [InlineData(nameof(Data.Entities.GenerationSettings.Temperature), -0.5, "Temperature must be between 0 and 2", "temperature")]
    [InlineData(nameof(Data.Entities.GenerationSettings.BatchCount), 5, "Batch count must be between", "batchCount")]
    [InlineData(nameof(Data.Entities.GenerationSettings.Sampler), 99, "Unknown sampler", "sampler")]
    public void Validate_OutOfRange_ThrowsClearMessageForTheField(string property, double value, string message, string field)
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

        var ex = Assert.Throws<RequestInvalidException>(() => h.RequestFactory.Validate(settings));
        Assert.Contains(message, Assert.Single(ex.FieldErrors[field]));
    }

    [Fact]
    public void Create_PromptTooLong_Rejected()
    {
        using var h = new QueueHarness();
        var settings = QueueHarness.Settings(prompt: new string('a', h.Options.MaxPromptLength + 1));
        var ex = Assert.Throws<RequestInvalidException>(() => h.RequestFactory.Validate(settings));
        Assert.Equal($"The prompt is {h.Options.MaxPromptLength + 1} characters long; the limit is {h.Options.MaxPromptLength}.", Assert.Single(ex.FieldErrors["prompt"]));
    }

    [Fact]
    public void Create_EngineValidationStillApplies()
    {
        using var h = new QueueHarness(new Web.Options.GenerationOptions { MaxSteps = 200 });
        var ex = Assert.Throws<RequestInvalidException>(() => h.RequestFactory.Validate(QueueHarness.Settings(steps: 180)));
        Assert.Contains("engine", ex.Message);
        Assert.IsType<InvalidGenerationRequestException>(ex.InnerException);
    }

    [Theory]
    [InlineData(-5L)]
    [InlineData(-1L)]
    [InlineData(long.MinValue)]
    [InlineData(DiffusionGallery.Web.Generation.Seeds.Max + 1)]
    public void Validate_SeedOutsideZeroToMax_IsRefusedAtTheSeedField_NamingTheRange(long seed)
    {
        using var h = new QueueHarness();
        var error = Assert.Throws<DiffusionGallery.Web.Errors.RequestInvalidException>(() => h.RequestFactory.Validate(QueueHarness.Settings(seed: seed)));
        Assert.Equal([DiffusionGallery.Web.Generation.Seeds.RangeMessage], error.FieldErrors["seed"]);
        Assert.Contains("0 to 4611686018427387903", DiffusionGallery.Web.Generation.Seeds.RangeMessage);
    }

    [Fact]
    public void Create_ValidSettings_MapEveryField()
    {
        using var h = new QueueHarness();
        var settings = QueueHarness.Settings(prompt: "  a red circle  ", steps: 12, seed: 5, batch: 3); // a negative seed is refused (Validate_NegativeSeed…)
        settings.NegativePrompt = "blurry";
        settings.Sampler = SamplerKind.EulerAncestral;
        settings.GuidanceScale = 4.5f;
        settings.Temperature = 0.8f;
        settings.Width = 192;

        var request = Create(h, settings);

        Assert.Equal("a red circle", request.Prompt);
        Assert.Equal("blurry", request.NegativePrompt);
        Assert.Equal("tiny-shapes", request.Model);
        Assert.Equal(SamplerKind.EulerAncestral, request.Sampler);
        Assert.Equal(12, request.Steps);
        Assert.Equal(4.5f, request.GuidanceScale);
        Assert.Equal(0.8f, request.Temperature);
        Assert.Equal(5, request.Seed);
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

        var request = Create(h, settings);

        Assert.Equal(sampler, request.Sampler);
        Assert.True(request.KarrasSigmas);
        settings.KarrasSigmas = false;
        Assert.False(Create(h, settings).KarrasSigmas);
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

        var request = Create(h, settings);

        Assert.Equal(sampler, request.Sampler);
        Assert.False(request.KarrasSigmas);
    }
}
