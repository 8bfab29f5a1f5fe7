using DiffusionGallery.Inference.Abstractions;
using DiffusionGallery.Inference.Pipeline;
using DiffusionGallery.Inference.Tests.Support;

namespace DiffusionGallery.Inference.Tests.Pipeline;

/// <summary>
/// Fixed-shape VAE decoder sessions (Inference:StaticVaeDecoder) on the bundled model, CPU: the same images as the
/// ordinary session, one session per images-a-call × latent size, and the ordinary session where they are refused.
/// </summary>
[Collection(TinyModelCollection.Name)]
public sealed class StaticVaeDecoderTests(TinyModelFixture fixture)
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static GenerationRequest Dpm(string prompt, long seed) => SharedRunRequests.Dpm(prompt, seed);

    [Fact]
    public async Task FixedShapeDecoders_GiveTheOrdinaryImages_OnePerShape()
    {
        using var engine = TinyModelFixture.NewGenerator(o => (o.StaticVaeDecoder, o.DecodeImagesPerCall) = (true, 0));
        GenerationRequest[] requests =
        [
            Dpm("a red circle on a blue background", 61) with { BatchSize = 2 },
            Dpm("a yellow triangle", 62) with { GuidanceScale = 1f },
        ];
        var items = requests.Select(r => new BatchItem(r, null, Ct)).ToList();

        var shared = await engine.GenerateBatchAsync(items, Ct); // 3 images finish together: one call padded to 4
        var ordinary = await fixture.Generator.GenerateBatchAsync(items, Ct);
        for (var i = 0; i < requests.Length; i++)
            ImageAssert.SameImages(ordinary[i].Result!, Assert.IsType<GenerationResult>(shared[i].Result), $"request {i}");

        var other = Dpm("a green star", 63) with { Width = 96, Height = 128 }; // one image, another latent size
        ImageAssert.SameImages(await fixture.Generator.GenerateAsync(other, null, Ct), await engine.GenerateAsync(other, null, Ct), "96x128");

        var cache = Assert.IsType<StaticVaeDecoderCache>((await engine.LoadModelAsync(null, Ct)).StaticVaeDecoders);
        Assert.Null(cache.DisabledBecause);
        Assert.Equal(2, cache.Count); // 4 images × 16×16, 1 image × 16×12
    }

    [Fact]
    public async Task CudaGraphsRefused_FallsBackToTheOrdinaryDecoder_SaysWhy_AndGivesTheSameImages()
    {
        using var engine = TinyModelFixture.NewGenerator();
        var model = await engine.LoadModelAsync(null, Ct);
        var log = new List<string>();
        // CUDA graphs asked for where they cannot run (no CUDA runtime here, or a CPU session on a GPU host).
        model.StaticVaeDecoders = new StaticVaeDecoderCache(model, new DiffusionGallery.Inference.Onnx.SessionFactory(new InferenceOptions
        {
            ModelsRoot = Path.GetTempPath(),
            Provider = ExecutionProviderPreference.Cpu,
        }), limit: 4, cudaGraphs: true, cudaDevice: 0, log.Add);
        var request = Dpm("a red circle on a blue background", 64);

        var result = await engine.GenerateAsync(request, null, Ct);

        ImageAssert.SameImages(await fixture.Generator.GenerateAsync(request, null, Ct), result, "fallback");
        Assert.NotNull(model.StaticVaeDecoders.DisabledBecause);
        Assert.Equal(0, model.StaticVaeDecoders.Count);
        Assert.Contains(log, l => l.Contains("VAE decoder sessions (CUDA graphs) are off", StringComparison.Ordinal)
            && l.Contains("Using the ordinary VAE decoder session", StringComparison.Ordinal));
    }
}
