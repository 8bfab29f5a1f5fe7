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
    public async Task MembersKeepTheirRows_AJoinerFillsTheGapOfOneWhoLeft_AndEveryoneGetsTheImagesTheyWouldHaveAlone()
    {
        // 8 steps each. a (2 rows) runs alone; b, c (2 rows each) and d (1 row, CFG 1) join at a's step 3 (rows 2–6: the
        // 8-row shape); a leaves after its step 8, leaving rows 0–1 as a gap (5 live rows: still the 8-row shape), in
        // which b, c and d run a step; e (2 rows) then joins into that gap — only its embeddings are written — and runs
        // on alone (the 2-row shape) once b, c and d have left.
        using var engine = Generator(staticShapes: 8);
        var feed = new TestRunFeed();
        GenerationRequest Request(string prompt, long seed) => Dpm(prompt, seed) with { Steps = 8 };
        var e = new BatchItem(Request("a blue star on a yellow background", 65) with { NegativePrompt = "circle" }, null, Ct);
        var (b, c) = (new BatchItem(Request("a green square", 62), null, Ct), new BatchItem(Request("a yellow triangle", 63), null, Ct));
        var d = new BatchItem(Request("a red circle", 64) with { GuidanceScale = 1f }, new CallbackProgress(p =>
        {
            if (p.Step == 7) feed.Release(e);
        }), Ct);
        var a = new BatchItem(Request("a red circle on a blue background", 61), new CallbackProgress(p =>
        {
            if (p.Step != 2) return;
            feed.Release(b);
            feed.Release(c);
            feed.Release(d);
        }), Ct);

        await engine.RunJoinableAsync([a], feed, maxImages: 4, Ct);

        Assert.Equal([a, b, c, d, e], feed.Finished.Select(f => f.Item).OrderBy(i => i.Request.Seed));
        Assert.Equal(4, feed.OutcomeOf(e).Result!.SharedBatchSize); // e shared calls with b, c and d: it joined before they left
        foreach (var (item, outcome) in feed.Finished)
        {
            var alone = await fixture.Generator.GenerateAsync(item.Request, null, Ct);
            ImageAssert.SameImages(alone, Assert.IsType<GenerationResult>(outcome.Result), item.Request.Prompt);
        }

        var cache = (await engine.LoadModelAsync(null, Ct)).StaticUnets!;
        Assert.Null(cache.DisabledBecause);
        Assert.Equal(2, cache.Count); // 2 rows (a alone, e alone) and 8 rows (everything in between)
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
        // (what a run's row layout asks: gaps are free only in rows a fixed-shape UNet computes anyway)
        Assert.True(cache.Serves(StaticUnetShape.For(2, 16, 16), timestepCond: false)); // the one it has
        Assert.False(cache.Serves(StaticUnetShape.For(4, 16, 16), timestepCond: false)); // no room for another
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
