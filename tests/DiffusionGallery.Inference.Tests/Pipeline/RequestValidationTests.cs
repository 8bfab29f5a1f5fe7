using DiffusionGallery.Inference.Abstractions;
using DiffusionGallery.Inference.Imaging;
using DiffusionGallery.Inference.Pipeline;
using DiffusionGallery.Inference.Tests.Support;

namespace DiffusionGallery.Inference.Tests.Pipeline;

[Collection(TinyModelCollection.Name)]
public sealed class RequestValidationTests(TinyModelFixture fixture)
{
    private static readonly GenerationRequest Valid = new() { Prompt = "a red circle", Steps = 2, PreviewInterval = 0 };

    public static TheoryData<string, GenerationRequest> OutOfRange() => new()
    {
        { "Steps", Valid with { Steps = 0 } },
        { "Steps", Valid with { Steps = 151 } },
        { "Width", Valid with { Width = 100 } },
        { "Height", Valid with { Height = 132 } },
        { "Width", Valid with { Width = 264 } },
        { "Height", Valid with { Height = 512 } },
        { "GuidanceScale", Valid with { GuidanceScale = -0.5f } },
        { "GuidanceScale", Valid with { GuidanceScale = 30.5f } },
        { "GuidanceScale", Valid with { GuidanceScale = float.NaN } },
        { "Strength", Valid with { Strength = -0.01f } },
        { "Strength", Valid with { Strength = 1.01f } },
        { "BatchSize", Valid with { BatchSize = 0 } },
        { "BatchSize", Valid with { BatchSize = 9 } },
        { "GuidanceRescale", Valid with { GuidanceRescale = 1.5f } },
        { "Eta", Valid with { Eta = -1f } },
        { "Temperature", Valid with { Temperature = 3f } },
    };

    [Theory]
    [InlineData("Prompt", "a red\u0000 circle", "")]
    [InlineData("Prompt", "a \u001b[31mred circle", "")]
    [InlineData("Prompt", "a red circle\u007f", "")]
    [InlineData("NegativePrompt", "a red circle", "blue\u0008")]
    public async Task ControlCharacters_InPrompts_AreRejectedBeforeAnyPngIsWritten(string setting, string prompt, string negative)
    {
        var request = Valid with { Prompt = prompt, NegativePrompt = negative };
        var error = Assert.Throws<InvalidSettingException>(() => fixture.Generator.Validate(request));
        Assert.Equal(setting, error.Setting);
        Assert.Contains("control character", error.Message);
        await Assert.ThrowsAsync<InvalidSettingException>(() => fixture.Generator.GenerateAsync(request, null, TestContext.Current.CancellationToken));
    }

    [Fact]
    public void TabsAndLineBreaks_InPrompts_AreText()
    {
        fixture.Generator.Validate(Valid with { Prompt = "a red circle\r\n\ton a blue background", NegativePrompt = "blurry\n" });
    }

    [Theory]
    [MemberData(nameof(OutOfRange))]
    public async Task OutOfRangeSetting_IsRejectedNamingTheSetting(string setting, GenerationRequest request)
    {
        var error = Assert.Throws<SettingOutOfRangeException>(() => fixture.Generator.Validate(request));
        Assert.Equal(setting, error.Setting);
        await Assert.ThrowsAsync<SettingOutOfRangeException>(() => fixture.Generator.GenerateAsync(request, null, TestContext.Current.CancellationToken));
    }

    [Fact]
    public void UnknownSampler_IsRejected()
    {
        var error = Assert.Throws<UnknownSamplerException>(() => fixture.Generator.Validate(Valid with { Sampler = (SamplerKind)42 }));
        Assert.Contains("42", error.Message);
    }

    [Fact]
    public void LcmSamplerOnANonLcmModel_IsRejected()
    {
        Assert.Throws<UnsupportedByModelException>(() => fixture.Generator.Validate(Valid with { Sampler = SamplerKind.Lcm }));
    }

    [Fact]
    public void UnknownModel_IsRejectedListingTheAvailableOnes()
    {
        var error = Assert.Throws<UnknownModelException>(() => fixture.Generator.Validate(Valid with { Model = "sd-xl-nope" }));
        Assert.Contains("tiny-shapes", error.Message);
    }

    [Fact]
    public async Task CorruptInitImage_FailsWithInvalidImageException()
    {
        byte[] corrupt = [0x89, (byte)'P', (byte)'N', (byte)'G', 13, 10, 26, 10, 0, 0, 0, 13, 1, 2, 3];

        var error = await Assert.ThrowsAsync<InvalidImageException>(() =>
            fixture.Generator.GenerateAsync(Valid with { InitImage = corrupt }, null, TestContext.Current.CancellationToken));
        Assert.IsAssignableFrom<InvalidGenerationRequestException>(error);
    }

    [Fact]
    public async Task OversizedInitImage_IsRefusedBeforeDecoding()
    {
        var huge = ImagingSamples.PngHeaderOnly(30000, 30000);

        var error = await Assert.ThrowsAsync<InvalidImageException>(() =>
            fixture.Generator.GenerateAsync(Valid with { InitImage = huge }, null, TestContext.Current.CancellationToken));
        Assert.Contains("30000x30000", error.Message);
    }

    [Fact]
    public async Task AfterBadRequests_TheGeneratorStillWorks()
    {
        Assert.ThrowsAny<InvalidGenerationRequestException>(() => fixture.Generator.Validate(Valid with { Steps = -5 }));
        var result = await fixture.Generator.GenerateAsync(Valid, null, TestContext.Current.CancellationToken);
        Assert.Single(result.Images);
    }
}
