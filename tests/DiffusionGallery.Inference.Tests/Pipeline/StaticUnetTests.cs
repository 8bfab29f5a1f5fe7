using DiffusionGallery.Inference.Abstractions;
using DiffusionGallery.Inference.Pipeline;
using DiffusionGallery.Inference.Tests.Support;

namespace DiffusionGallery.Inference.Tests.Pipeline;

/// <summary>
/// Fixed-shape UNet sessions (Inference:StaticUnetShapes) on the bundled model, CPU: the same images as the ordinary
/// session while members join and leave (row counts padded up to powers of two), one session per shape up to the limit,
/// the ordinary session beyond it.
/// </summary>
[Collection(TinyModelCollection.Name)]
public sealed class StaticUnetTests(TinyModelFixture fixture)
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static GenerationRequest Dpm(string prompt, long seed) => SharedRunRequests.Dpm(prompt, seed);

    private static DiffusionImageGenerator Generator(int staticShapes) => TinyModelFixture.NewGenerator(o => o.StaticUnetShapes = staticShapes);

    [Fact]
    public async Task FixedShapeSessions_GiveTheOrdinaryImages_WhileMembersJoin_OneSessionPerPaddedShape()
    {
        using var engine = Generator(staticShapes: 8);
        var init = (await fixture.Generator.GenerateAsync(Dpm("a green square", 91), null, Ct)).Images[0].Png;
        GenerationRequest[] requests =
        [
            Dpm("a red circle on a blue background", 31) with { BatchSize = 2 },              // 4 rows (CFG)
            Dpm("a yellow triangle", 32) with { GuidanceScale = 1f },                         // 1 row: 5 → 8
            Dpm("a blue square", 33) with { InitImage = init, Strength = 0.4f },               // joins at step 3: 7 → 8
        ];

        var outcomes = await engine.GenerateBatchAsync(requests.Select(r => new BatchItem(r, null, Ct)).ToList(), Ct);
        var ordinary = await fixture.Generator.GenerateBatchAsync(requests.Select(r => new BatchItem(r, null, Ct)).ToList(), Ct);
        for (var i = 0; i < requests.Length; i++)
            ImageAssert.SameImages(ordinary[i].Result!, outcomes[i].Result!, $"request {i}");

        var model = await engine.LoadModelAsync(null, Ct);
        var cache = Assert.IsType<StaticUnetCache>(model.StaticUnets);
        Assert.Null(cache.DisabledBecause);
        Assert.Equal(1, cache.Count); // 5 rows and 7 rows both padded to 8: one session

        // A lone image at CFG 1 (1 row) needs a second shape.
        var alone = await engine.GenerateAsync(requests[1], null, Ct);
        ImageAssert.SameImages(ordinary[1].Result!, alone, "alone");
        Assert.Equal(2, cache.Count);
    }

    [Fact]
    public async Task ShapesBeyondTheLimit_UseTheOrdinarySession_WithTheSameImages()
    {
        using var engine = Generator(staticShapes: 1);
        var first = Dpm("a red circle on a blue background", 41);                     // 2 rows
        var second = Dpm("a yellow triangle", 42) with { Width = 96, Height = 128 };  // another latent size

        var a = await engine.GenerateAsync(first, null, Ct);
        var b = await engine.GenerateAsync(second, null, Ct);

        ImageAssert.SameImages(await fixture.Generator.GenerateAsync(first, null, Ct), a, "first");
        ImageAssert.SameImages(await fixture.Generator.GenerateAsync(second, null, Ct), b, "second");
        var cache = (await engine.LoadModelAsync(null, Ct)).StaticUnets!;
        Assert.Equal(1, cache.Count);
        Assert.Null(cache.DisabledBecause);
    }

    [Fact]
    public async Task CudaGraphsRefused_FallsBackToTheOrdinarySession_SaysWhy_AndGivesTheSameImages()
    {
        using var engine = Generator(staticShapes: 0);
        var model = await engine.LoadModelAsync(null, Ct);
        var log = new List<string>();
        // CUDA graphs asked for where they cannot run (no CUDA runtime here, or a CPU session on a GPU host).
        model.StaticUnets = new StaticUnetCache(model, new DiffusionGallery.Inference.Onnx.SessionFactory(new InferenceOptions
        {
            ModelsRoot = Path.GetTempPath(),
            Provider = ExecutionProviderPreference.Cpu,
        }), limit: 4, cudaGraphs: true, cudaDevice: 0, log.Add);
        var request = Dpm("a red circle on a blue background", 51) with { BatchSize = 2 };

        var result = await engine.GenerateAsync(request, null, Ct);

        ImageAssert.SameImages(await fixture.Generator.GenerateAsync(request, null, Ct), result, "fallback");
        Assert.NotNull(model.StaticUnets.DisabledBecause);
        Assert.Equal(0, model.StaticUnets.Count);
        Assert.Contains(log, l => l.Contains("are off", StringComparison.Ordinal) && l.Contains("Using the ordinary UNet session", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData(1, 1)]
    [InlineData(2, 2)]
    [InlineData(3, 4)]
    [InlineData(5, 8)]
    [InlineData(16, 16)]
    [InlineData(17, 32)]
    public void RowsRoundUpToAPowerOfTwo(int rows, int expected) =>
        Assert.Equal(new StaticUnetShape(expected, 16, 12), StaticUnetShape.For(rows, 16, 12));

    [Fact]
    public void StaticUnetShapes_OutOfRange_IsRefusedAtStart()
    {
        Assert.Contains(new InferenceOptions { ModelsRoot = Path.GetTempPath(), StaticUnetShapes = 65 }.Validate(),
            e => e.Contains("StaticUnetShapes must be between 0", StringComparison.Ordinal));
        Assert.Contains(new InferenceOptions { ModelsRoot = Path.GetTempPath(), StaticUnetShapes = -2 }.Validate(),
            e => e.Contains("StaticUnetShapes must be between 0", StringComparison.Ordinal));
        Assert.Empty(new InferenceOptions { ModelsRoot = Path.GetTempPath(), StaticUnetShapes = InferenceOptions.AutomaticStaticUnetShapes }.Validate());
    }

    [Fact]
    public async Task Automatic_OnCpu_UsesTheOrdinarySession_AndAnExplicitCountWins()
    {
        using var automatic = Generator(staticShapes: InferenceOptions.AutomaticStaticUnetShapes);
        var model = await automatic.LoadModelAsync(null, Ct);
        Assert.Equal(0, automatic.StaticUnetShapesFor(model.Info)); // CPU: fixed shapes gain nothing there
        Assert.Null(model.StaticUnets);
        using var explicitCount = Generator(staticShapes: 3);
        Assert.Equal(3, explicitCount.StaticUnetShapesFor((await explicitCount.LoadModelAsync(null, Ct)).Info));
    }

    [Theory]
    [InlineData(false, 10L << 20, 0)]          // CPU: never
    [InlineData(true, 10L << 20, 8)]           // a small UNet (the bundled one is 15 MB): a shape per power-of-two row count
    [InlineData(true, 256L << 20, 8)]
    [InlineData(true, (256L << 20) + 1, 1)]    // larger (SD 1.5 fp16: 1.7 GB): one copy of the weights, for the first shape run
    [InlineData(true, 3_400L << 20, 1)]
    public void Automatic_GivesSmallUnetsEightShapes_LargeOnesOne_OnCudaOnly(bool cuda, long unetBytes, int shapes) =>
        Assert.Equal(shapes, InferenceOptions.AutomaticStaticUnetShapesFor(cuda, unetBytes));
}
