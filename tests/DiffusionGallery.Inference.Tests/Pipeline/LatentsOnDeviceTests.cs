using DiffusionGallery.Inference.Abstractions;
using DiffusionGallery.Inference.Pipeline;
using DiffusionGallery.Inference.Tests.Support;

namespace DiffusionGallery.Inference.Tests.Pipeline;

/// <summary>
/// Latents kept where the fixed-shape UNet runs (Inference:LatentsOnDevice), on the bundled model and the CPU, where the
/// same path runs over host memory: the latent step graph gives the images the host's samplers give (the same seeds,
/// within 1/255) while members join, leave a gap, enter it, start part-way (img2img) and watch previews; a member that
/// must step on the host takes the run back there and out again without changing anyone's image; and the graph really
/// ran (its step count).
/// </summary>
[Collection(TinyModelCollection.Name)]
public sealed class LatentsOnDeviceTests(TinyModelFixture fixture)
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static DiffusionImageGenerator Generator() => TinyModelFixture.NewGenerator(o =>
    {
        o.StaticUnetShapes = 8;
        o.LatentsOnDevice = true;
    });

    private static GenerationRequest Request(string prompt, long seed, SamplerKind sampler = SamplerKind.DpmPlusPlus2M) =>
        SharedRunRequests.Dpm(prompt, seed) with { Steps = 8, Sampler = sampler };

    private static async Task<LatentStepGraph> StepGraphOf(DiffusionImageGenerator engine) =>
        Assert.IsType<LatentStepGraph>((await engine.LoadModelAsync(null, Ct)).LatentStep);

    [Theory]
    [InlineData(SamplerKind.DpmPlusPlus2M, true)]
    [InlineData(SamplerKind.DpmPlusPlus2M, false)]
    [InlineData(SamplerKind.Euler, true)]
    public async Task OneImage_EveryStepInTheGraph_TheHostsImage(SamplerKind sampler, bool karras)
    {
        using var engine = Generator();
        var request = Request("a red circle on a blue background", 71, sampler) with { KarrasSigmas = karras, BatchSize = 2 };

        var result = await engine.GenerateAsync(request, null, Ct);

        ImageAssert.SameImages(await fixture.Generator.GenerateAsync(request, null, Ct), result, $"{sampler}");
        Assert.Equal(8, (await StepGraphOf(engine)).Runs);
    }

    [Fact]
    public async Task MembersJoinLeaveAndFillGaps_WithPreviewsAndImg2Img_EveryoneGetsTheImagesTheyWouldHaveAlone()
    {
        // a (2 rows) alone; b, c (2 rows each, c from an init image: it starts part-way) and d (1 row, CFG 1) join at a's
        // step 3; a leaves after its step 8, leaving a gap that e (2 rows, watching previews) fills.
        using var engine = Generator();
        var init = (await fixture.Generator.GenerateAsync(Request("a green square", 91), null, Ct)).Images[0].Png;
        var feed = new TestRunFeed();
        var previews = new List<PreviewFrame>();
        var e = new BatchItem(Request("a blue star on a yellow background", 65) with { NegativePrompt = "circle", PreviewInterval = 2 },
            new CallbackProgress(p => previews.AddRange(p.Previews ?? [])), Ct);
        var b = new BatchItem(Request("a green square", 62), null, Ct);
        var c = new BatchItem(Request("a yellow triangle", 63) with { InitImage = init, Strength = 0.5f }, null, Ct);
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
        foreach (var (item, outcome) in feed.Finished)
        {
            var alone = await fixture.Generator.GenerateAsync(item.Request, null, Ct);
            ImageAssert.SameImages(alone, Assert.IsType<GenerationResult>(outcome.Result), item.Request.Prompt);
        }

        // e's previews (every 2nd of its 8 steps) are its own denoised latents, as on the host
        var hostPreviews = new List<PreviewFrame>();
        await fixture.Generator.GenerateAsync(e.Request, new CallbackProgress(p => hostPreviews.AddRange(p.Previews ?? [])), Ct);
        Assert.Equal(4, previews.Count);
        Assert.Equal(hostPreviews.Count, previews.Count);
        for (var i = 0; i < previews.Count; i++)
        {
            var worst = previews[i].Rgb24.Zip(hostPreviews[i].Rgb24, (x, y) => Math.Abs(x - y)).Max();
            Assert.True(worst <= 1, $"preview {i} differs by {worst}/255");
        }

        // every step of the run was the graph's (one per step of the shared loop: a's 8, then e's steps after a left)
        Assert.True((await StepGraphOf(engine)).Runs >= 8 + 7);
    }

    [Fact]
    public async Task AMemberThatStepsOnTheHost_TakesTheRunThereAndBack_WithoutChangingAnImage()
    {
        // b uses CFG rescale (not in the graph): while it is in the run every member steps on the host — a's latents and
        // DPM++ history come back from the graph's buffers first — and when b has left (cancelled after 3 steps) a's
        // state goes out to the graph again. a's image stays the one it gets alone.
        using var engine = Generator();
        var feed = new TestRunFeed();
        using var cancelB = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        var b = new BatchItem(Request("a yellow triangle", 82) with { Steps = 12, GuidanceRescale = 0.5f }, new CallbackProgress(p =>
        {
            if (p.Step == 3) cancelB.Cancel();
        }), cancelB.Token);
        var a = new BatchItem(Request("a red circle on a blue background", 81) with { Steps = 12 }, new CallbackProgress(p =>
        {
            if (p.Step == 2) feed.Release(b);
        }), Ct);

        await engine.RunJoinableAsync([a], feed, maxImages: 4, Ct);

        // (a's steps alternate between the graph's float32 arithmetic and the host's double one, in an order its run alone
        // does not have: with model v5 one channel of one pixel lands 6/255 apart, the mean 0.07/255; a wrong buffer or a
        // lost history moves the whole image, or fails the member)
        ImageAssert.NearlySameImages(await fixture.Generator.GenerateAsync(a.Request, null, Ct), Assert.IsType<GenerationResult>(feed.OutcomeOf(a).Result), "a",
            worstAllowed: 8, meanAllowed: 0.25);
        Assert.IsAssignableFrom<OperationCanceledException>(feed.OutcomeOf(b).Error);
        // a's first 2–3 steps, then (b gone) the rest of its 12 less the ~3 it shared with b
        Assert.InRange((await StepGraphOf(engine)).Runs, 4, 10);
    }

    [Fact]
    public async Task Fp16Unet_TheFp16Graph_GivesTheHostsLatents()
    {
        // the bundled model rewritten with fp16 tensors (as SD exports are): the graph reads fp16 outputs and writes fp16 inputs
        var root = Path.Combine(Path.GetTempPath(), $"dg-devlat-{Guid.NewGuid():N}");
        try
        {
            var folder = GraphVariants.Make(root, "fp16-int64");
            DiffusionImageGenerator Engine(bool onDevice) => new(new InferenceOptions
            {
                ModelsRoot = Path.GetDirectoryName(folder)!,
                DefaultModel = Path.GetFileName(folder),
                Provider = ExecutionProviderPreference.Cpu,
                StaticUnetShapes = 8,
                LatentsOnDevice = onDevice,
            });
            var request = Request("a large yellow star in the top left on a black background", 42) with { BatchSize = 2 };
            using var host = Engine(onDevice: false);
            using var device = Engine(onDevice: true);

            using var expected = await host.RunAsync(request, null, Ct);
            using var actual = await device.RunAsync(request, null, Ct);

            var graph = await StepGraphOf(device);
            Assert.Equal(Microsoft.ML.OnnxRuntime.Tensors.TensorElementType.Float16, graph.UnetType);
            Assert.Equal(8, graph.Runs);
            var error = Golden.RelativeError(actual.FinalLatents, expected.FinalLatents);
            Assert.True(error < 1e-3, $"relative error {error:E2}");
        }
        finally
        {
            if (Directory.Exists(root))
                Directory.Delete(root, recursive: true);
        }
    }

    [Fact]
    public async Task TheGraphIsCheckedOnKnownValuesWhenTheModelLoads_AndTheLogSaysSo()
    {
        var log = new List<string>();
        using var engine = TinyModelFixture.NewGenerator(o =>
        {
            o.StaticUnetShapes = 8;
            o.LatentsOnDevice = true;
            o.Log = log.Add;
        });

        var graph = await StepGraphOf(engine);

        Assert.Equal(0, graph.Runs); // (the load-time check is not counted as a step)
        Assert.Contains(log, l => l.StartsWith("Latents stay on the device between steps", StringComparison.Ordinal));
    }

    [Fact]
    public async Task WithoutFixedShapes_OrTheSetting_ThereIsNoGraph()
    {
        using var off = TinyModelFixture.NewGenerator(o => o.StaticUnetShapes = 8);
        using var noShapes = TinyModelFixture.NewGenerator(o => o.LatentsOnDevice = true);
        Assert.Null((await off.LoadModelAsync(null, Ct)).LatentStep);
        Assert.Null((await noShapes.LoadModelAsync(null, Ct)).LatentStep);
    }
}
