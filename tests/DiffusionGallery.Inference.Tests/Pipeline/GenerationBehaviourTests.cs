using DiffusionGallery.Inference.Abstractions;
using DiffusionGallery.Inference.Metadata;
using DiffusionGallery.Inference.Pipeline;
using DiffusionGallery.Inference.Tests.Support;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;

namespace DiffusionGallery.Inference.Tests.Pipeline;

[Collection(TinyModelCollection.Name)]
public sealed class GenerationBehaviourTests(TinyModelFixture fixture)
{
    private static GenerationRequest Request(int steps = 6) => new()
    {
        Prompt = "a red circle on a blue background",
        Seed = 1234,
        Steps = steps,
        Sampler = SamplerKind.DpmPlusPlus2M,
        PreviewInterval = 0,
    };

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task SameSeedTwice_GivesByteIdenticalPngs()
    {
        var first = await fixture.Generator.GenerateAsync(Request(), null, Ct);
        var second = await fixture.Generator.GenerateAsync(Request(), null, Ct);

        Assert.Equal(first.Images[0].Png, second.Images[0].Png);
        using var a = Image.Load<Rgb24>(first.Images[0].Png);
        using var b = Image.Load<Rgb24>(second.Images[0].Png);
        var pixelsA = new Rgb24[a.Width * a.Height];
        var pixelsB = new Rgb24[b.Width * b.Height];
        a.CopyPixelDataTo(pixelsA);
        b.CopyPixelDataTo(pixelsB);
        Assert.Equal(pixelsA, pixelsB);
    }

    [Fact]
    public async Task EveryRun_StepsOnTheEnginesOwnThread_WhereverItWasCalledFrom()
    {
        // (ONNX Runtime's CUDA provider keeps per-thread state: runs on changing pool threads made it again and again)
        var threads = new System.Collections.Concurrent.ConcurrentQueue<(int Id, string? Name)>();
        var progress = new OnReport(() => threads.Enqueue((Environment.CurrentManagedThreadId, Thread.CurrentThread.Name)));

        await fixture.Generator.GenerateAsync(Request(steps: 3), progress, Ct);
        await Task.Run(() => fixture.Generator.GenerateAsync(Request(steps: 3), progress, Ct), Ct);

        Assert.Equal(6, threads.Count); // one report a step (a single image steps on the loop's own thread)
        var thread = Assert.Single(threads.Distinct());
        Assert.StartsWith("Inference device", thread.Name);
    }

    private sealed class OnReport(Action report) : IProgress<GenerationProgress>
    {
        public void Report(GenerationProgress value) => report();
    }

    [Fact]
    public async Task ConcurrentCalls_AreSerializedAndEachGetsItsOwnResult()
    {
        var requests = Enumerable.Range(0, 4).Select(i => Request() with { Seed = 500 + i }).ToList();
        var sequential = new List<byte[]>();
        foreach (var r in requests)
            sequential.Add((await fixture.Generator.GenerateAsync(r, null, Ct)).Images[0].Png);

        var concurrent = await Task.WhenAll(requests.Select(r => Task.Run(() => fixture.Generator.GenerateAsync(r, null, Ct), Ct)));

        Assert.Equal(sequential, concurrent.Select(c => c.Images[0].Png));
    }

    [Fact]
    public async Task DifferentSeeds_GiveDifferentImages()
    {
        var first = await fixture.Generator.GenerateAsync(Request(), null, Ct);
        var second = await fixture.Generator.GenerateAsync(Request() with { Seed = 1235 }, null, Ct);

        Assert.NotEqual(first.Images[0].Png, second.Images[0].Png);
    }

    [Fact]
    public async Task BatchItem_UsesSeedPlusIndex()
    {
        using var batch = await fixture.Generator.RunAsync(Request() with { BatchSize = 2, Sampler = SamplerKind.EulerAncestral }, null, Ct);
        using var single = await fixture.Generator.RunAsync(Request() with { Seed = 1235, Sampler = SamplerKind.EulerAncestral }, null, Ct);

        var itemLength = single.FinalLatents.Length;
        var secondItem = batch.FinalLatents.AsSpan(itemLength, itemLength);
        Assert.True(Golden.RelativeError(secondItem, single.FinalLatents) < 1e-5);
        Assert.Equal([1234L, 1235L], batch.Result.Images.Select(i => i.Seed));
    }

    [Fact]
    public async Task BatchPngs_EncodedInParallel_KeepTheirItemsOrder()
    {
        using var run = await fixture.Generator.RunAsync(Request(4) with { BatchSize = 4, Seed = 77 }, null, Ct);

        Assert.Equal(4, run.Result.Images.Count);
        for (var b = 0; b < 4; b++)
        {
            var output = run.Result.Images[b];
            Assert.Equal(77L + b, output.Seed);
            Assert.Equal((ulong)(77 + b), PngMetadata.Read(output.Png).Generation!.Seed);
            Assert.Contains($"Seed: {77 + b},", output.ParametersText);
            using var decoded = Image.Load<Rgb24>(output.Png);
            var expected = new Rgb24[decoded.Width * decoded.Height];
            var actual = new Rgb24[expected.Length];
            run.Images[b].CopyPixelDataTo(expected);
            decoded.CopyPixelDataTo(actual);
            Assert.Equal(expected, actual);
        }
    }

    [Fact]
    public async Task Cancellation_StopsWithinOneStepAndTheNextJobSucceeds()
    {
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        var reports = 0;
        var progress = new CallbackProgress(p =>
        {
            reports++;
            if (p.Step == 3)
                cts.Cancel();
        });

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => fixture.Generator.GenerateAsync(Request(20), progress, cts.Token));
        Assert.Equal(3, reports);

        var reference = await fixture.Generator.GenerateAsync(Request(), null, Ct);
        var again = await fixture.Generator.GenerateAsync(Request(), null, Ct);
        Assert.Equal(reference.Images[0].Png, again.Images[0].Png);
    }

    [Fact]
    public async Task CancellationDuringAnOnnxCall_InterruptsItAndLeavesTheSessionUsable()
    {
        // A large batch makes each UNet call long enough for the cancel to land inside ONNX Runtime.
        var heavy = Request(40) with { Width = 256, Height = 256, BatchSize = 4 };
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        var reports = 0;
        var progress = new CallbackProgress(_ =>
        {
            if (Interlocked.Increment(ref reports) == 1)
                cts.CancelAfter(TimeSpan.FromMilliseconds(5));
        });
        var started = DateTime.UtcNow;

        var ex = await Assert.ThrowsAnyAsync<OperationCanceledException>(() => fixture.Generator.GenerateAsync(heavy, progress, cts.Token));

        Assert.True(reports < 40, "the job ran to completion");
        Assert.Contains("during an ONNX Runtime call", ex.Message);
        var result = await fixture.Generator.GenerateAsync(Request(), null, Ct);
        Assert.Single(result.Images);
        Assert.True(DateTime.UtcNow - started < TimeSpan.FromMinutes(1));
    }

    [Fact]
    public async Task Progress_ReportsEveryStepWithPreviewsAtTheInterval()
    {
        var reports = new List<GenerationProgress>();
        var progress = new CallbackProgress(reports.Add);

        await fixture.Generator.GenerateAsync(Request(10) with { PreviewInterval = 5, BatchSize = 2 }, progress, Ct);

        Assert.Equal(Enumerable.Range(1, 10), reports.Select(r => r.Step));
        Assert.All(reports, r => Assert.Equal(10, r.TotalSteps));
        Assert.True(reports.Zip(reports.Skip(1)).All(p => p.Second.Sigma < p.First.Sigma), "sigma must decrease");
        Assert.Equal([5, 10], reports.Where(r => r.Previews is not null).Select(r => r.Step));
        var frames = reports[^1].Previews!;
        Assert.Equal(2, frames.Count);
        Assert.All(frames, f => Assert.Equal((64, 64, 64 * 64 * 3), (f.Width, f.Height, f.Rgb24.Length)));
        Assert.Equal(TimeSpan.Zero, reports[^1].EstimatedRemaining);
    }

    [Fact]
    public async Task GuidanceNegativeEmphasisAndRescale_EachChangeTheResult()
    {
        var baseline = await Latents(Request());
        Assert.NotEqual(baseline, await Latents(Request() with { GuidanceScale = 1f }));
        Assert.NotEqual(baseline, await Latents(Request() with { NegativePrompt = "a green square" }));
        Assert.NotEqual(baseline, await Latents(Request() with { Prompt = "a (red:1.4) circle on a blue background" }));
        Assert.NotEqual(baseline, await Latents(Request() with { GuidanceRescale = 0.7f }));
    }

    [Fact]
    public async Task Result_CarriesSettingsHashProviderTimingsAndMetadata()
    {
        var request = Request() with { NegativePrompt = "blurry, dark", KarrasSigmas = true };
        var result = await fixture.Generator.GenerateAsync(request, null, Ct);

        Assert.Equal("CPU", result.ExecutionProvider);
        Assert.Equal(10, result.ModelHash.Length);
        Assert.Equal(request, result.Settings);
        foreach (var stage in new[] { "tokenize", "text_encoder", "unet", "scheduler", "vae_decode", "png_encode", "total" })
            Assert.True(result.StageTimings[stage] > TimeSpan.Zero, stage);
        var read = PngMetadata.Read(result.Images[0].Png);
        Assert.Equal(result.Images[0].ParametersText, read.Parameters!.ToString());
        Assert.Equal("blurry, dark", read.Parameters.NegativePrompt);
        Assert.Equal("Karras", read.Parameters["Schedule type"]);
        Assert.Equal(1234UL, read.Generation!.Seed);
        Assert.Equal(result.ModelHash, read.Generation.ModelHash);
        Assert.Equal(result.RuntimeVersion, read.Generation.RuntimeVersion);
    }

    [Fact]
    public async Task LongPrompt_ReportsTruncatedTokens()
    {
        var prompt = string.Join(" ", Enumerable.Repeat("a red circle", 30));
        var result = await fixture.Generator.GenerateAsync(Request(1) with { Prompt = prompt }, null, Ct);

        Assert.Equal(90 - 75, result.PromptTokensTruncated);
    }

    [Fact]
    public async Task ImageToImage_StrengthSetsTheStepsRun()
    {
        var init = (await fixture.Generator.GenerateAsync(Request(), null, Ct)).Images[0].Png;

        var none = await fixture.Generator.GenerateAsync(Request(10) with { InitImage = init, Strength = 0f }, null, Ct);
        var half = await fixture.Generator.GenerateAsync(Request(10) with { InitImage = init, Strength = 0.5f }, null, Ct);
        var full = await fixture.Generator.GenerateAsync(Request(10) with { InitImage = init, Strength = 1f }, null, Ct);

        Assert.Equal((0, 5, 10), (none.StepsRun, half.StepsRun, full.StepsRun));
        Assert.Equal(0.5f, PngMetadata.Read(half.Images[0].Png).Generation!.Strength);
        Assert.Equal(64, PngMetadata.Read(half.Images[0].Png).Generation!.InitImageHash!.Length);
        // Strength 0 only encodes and decodes: no noise is used, so the seed does not matter; at strength 1 it does.
        var noneOtherSeed = await fixture.Generator.GenerateAsync(Request(10) with { InitImage = init, Strength = 0f, Seed = 99 }, null, Ct);
        var fullOtherSeed = await fixture.Generator.GenerateAsync(Request(10) with { InitImage = init, Strength = 1f, Seed = 99 }, null, Ct);
        Assert.Equal(ImageAssert.Pixels(none.Images[0].Png), ImageAssert.Pixels(noneOtherSeed.Images[0].Png));
        Assert.NotEqual(ImageAssert.Pixels(full.Images[0].Png), ImageAssert.Pixels(fullOtherSeed.Images[0].Png));
    }

    [Fact]
    public async Task ForwardNoising_ReachesPureNoiseAtTheLastTimestep()
    {
        var init = (await fixture.Generator.GenerateAsync(Request(), null, Ct)).Images[0].Png;

        var low = await fixture.Generator.NoiseImageAsync(new ForwardNoiseRequest { Image = init, Timestep = 0, Seed = 5 }, Ct);
        var high = await fixture.Generator.NoiseImageAsync(new ForwardNoiseRequest { Image = init, Timestep = 999, Seed = 5 }, Ct);
        var again = await fixture.Generator.NoiseImageAsync(new ForwardNoiseRequest { Image = init, Timestep = 999, Seed = 5 }, Ct);

        Assert.Equal(high.Latent, again.Latent);
        Assert.True(high.Sigma > 14 && low.Sigma < 0.05);
        // Both are √ᾱ·clean + √(1−ᾱ)·noise with the same noise (seed 5, offset 0): recover clean from t=0, predict t=999.
        var noise = new float[low.Latent.Length];
        DiffusionGallery.Inference.Noise.PhiloxNoiseGenerator.Fill(5, 0, noise);
        for (var i = 0; i < noise.Length; i++)
        {
            var clean = (low.Latent[i] - Math.Sqrt(1 - low.AlphaCumprod) * noise[i]) / Math.Sqrt(low.AlphaCumprod);
            var expected = Math.Sqrt(high.AlphaCumprod) * clean + Math.Sqrt(1 - high.AlphaCumprod) * noise[i];
            Assert.Equal(expected, high.Latent[i], 3);
        }
    }

    [Fact]
    public async Task Temperature_ScalesOnlyTheFreshNoiseOfStochasticSamplers()
    {
        var ancestral = Request() with { Sampler = SamplerKind.EulerAncestral };
        var deterministic = Request() with { Sampler = SamplerKind.DpmPlusPlus2M };

        Assert.NotEqual(await Latents(ancestral), await Latents(ancestral with { Temperature = 0.5f }));
        Assert.Equal(await Latents(deterministic), await Latents(deterministic with { Temperature = 0.5f }));
        // DDIM's eta noise is scaled too, while at eta 0 DDIM draws none and ignores the temperature.
        var ddim = Request() with { Sampler = SamplerKind.Ddim };
        Assert.Equal(await Latents(ddim), await Latents(ddim with { Temperature = 0f }));
        Assert.NotEqual(await Latents(ddim with { Eta = 1f }), await Latents(ddim with { Eta = 1f, Temperature = 0f }));
    }

    private async Task<float[]> Latents(GenerationRequest request)
    {
        using var run = await fixture.Generator.RunAsync(request, null, Ct);
        return run.FinalLatents;
    }
}

internal sealed class CallbackProgress(Action<GenerationProgress> callback) : IProgress<GenerationProgress>
{
    public void Report(GenerationProgress value) => callback(value);
}
