using DiffusionGallery.Inference.Abstractions;
using DiffusionGallery.Inference.Pipeline;
using DiffusionGallery.Inference.Tests.Support;

namespace DiffusionGallery.Inference.Tests.Pipeline;

/// <summary>
/// Members that finish at the same step are decoded in shared VAE calls, at most a latent-size-dependent number of
/// images a call (so a large image is still decoded alone); the images are those each request gets alone.
/// </summary>
[Collection(TinyModelCollection.Name)]
public sealed class DecodeBatchingTests(TinyModelFixture fixture)
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Theory]
    [InlineData(16, 16, 0, 64)]   // 128²
    [InlineData(32, 32, 0, 16)]   // 256²
    [InlineData(64, 64, 0, 4)]    // 512²
    [InlineData(96, 64, 0, 2)]    // 768 × 512: 2.7 → the power of two below
    [InlineData(128, 128, 0, 1)]  // 1024²
    [InlineData(256, 256, 0, 1)]  // never fewer than one
    [InlineData(8, 8, 0, 64)]     // never more than 64
    [InlineData(16, 16, 1, 1)]    // Inference:DecodeImagesPerCall 1: every image alone
    [InlineData(16, 16, 12, 8)]   // configured lower, rounded down to a power of two
    [InlineData(64, 64, 32, 4)]   // configured higher than the automatic figure: the automatic one
    public void ImagesPerCall_ShrinkWithTheLatentSize_AndAreAPowerOfTwo(int latentH, int latentW, int configured, int expected) =>
        Assert.Equal(expected, DiffusionPipeline.DecodeImagesPerCall(latentH, latentW, configured));

    [Fact]
    public async Task ImagesOfMembersFinishingTogether_AreTheImagesEachGetsAlone()
    {
        // 4 members finishing at the last step: 1 + 3 + 2 + 1 images, decoded in one VAE call at 64×64 px (8×8 latents),
        // padded to 8 images
        GenerationRequest[] requests =
        [
            SharedRunRequests.Dpm("a red circle", 61) with { Width = 64, Height = 64 },
            SharedRunRequests.Dpm("a green square", 62) with { Width = 64, Height = 64, BatchSize = 3 },
            SharedRunRequests.Dpm("a blue star", 63) with { Width = 64, Height = 64, BatchSize = 2, GuidanceScale = 1f },
            SharedRunRequests.Dpm("a yellow triangle", 64) with { Width = 64, Height = 64 },
        ];

        using var shared = TinyModelFixture.NewGenerator(o => o.DecodeImagesPerCall = 0); // automatic (the default is one image a call)
        var outcomes = await shared.GenerateBatchAsync(requests.Select(r => new BatchItem(r, null, Ct)).ToList(), Ct);

        for (var i = 0; i < requests.Length; i++)
        {
            var result = Assert.IsType<GenerationResult>(outcomes[i].Result);
            Assert.Equal(requests[i].BatchSize, result.Images.Count);
            ImageAssert.SameImages(await fixture.Generator.GenerateAsync(requests[i], null, Ct), result, $"request {i}");
        }
    }
}
