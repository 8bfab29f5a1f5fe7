using DiffusionGallery.Inference.Abstractions;
using DiffusionGallery.Inference.Pipeline;
using DiffusionGallery.Inference.Tests.Support;

namespace DiffusionGallery.Inference.Tests.Pipeline;

/// <summary>Requests of different users in one shared run (IBatchImageGenerator) on the bundled model, CPU.</summary>
[Collection(TinyModelCollection.Name)]
public sealed class SharedRunTests(TinyModelFixture fixture)
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static GenerationRequest Dpm(string prompt, long seed) => SharedRunRequests.Dpm(prompt, seed);

    private static GenerationRequest EulerA(string prompt, long seed) => Dpm(prompt, seed) with { Sampler = SamplerKind.EulerAncestral, KarrasSigmas = false };

    [Fact]
    public async Task SharedRun_DpmKarras_MatchesEachRequestRunAlone()
    {
        var init = (await fixture.Generator.GenerateAsync(Dpm("a green square", 77), null, Ct)).Images[0].Png;
        GenerationRequest[] requests =
        [
            Dpm("a red circle on a blue background", 1) with { BatchSize = 2 },
            Dpm("a yellow triangle", 2) with { NegativePrompt = "green", GuidanceScale = 1f },
            Dpm("a blue square on a red background", 3) with { NegativePrompt = "circle", GuidanceScale = 4.5f, GuidanceRescale = 0.5f },
            Dpm("a red circle on a blue background", 4) with { InitImage = init, Strength = 0.6f },
            Dpm("a yellow triangle", 5) with { InitImage = init, Strength = 0.4f, GuidanceScale = 1f },
        ];

        var outcomes = await fixture.Generator.GenerateBatchAsync(requests.Select(r => new BatchItem(r, null, Ct)).ToList(), Ct);

        Assert.Equal(requests.Length, outcomes.Count);
        for (var i = 0; i < requests.Length; i++)
        {
            var alone = await fixture.Generator.GenerateAsync(requests[i], null, Ct);
            var shared = Assert.IsType<GenerationResult>(outcomes[i].Result);
            ImageAssert.SameImages(alone, shared, $"request {i}");
            Assert.Equal(requests[i].BatchSize, alone.SharedBatchSize);
            Assert.Equal(alone.StepsRun, shared.StepsRun);
        }

        // Txt2img members (4 images) run every step together; img2img ones join later, so all saw 6 images at once.
        Assert.All(outcomes, o => Assert.Equal(6, o.Result!.SharedBatchSize));
    }

    [Fact]
    public async Task IoBindingOff_GivesTheSameImagesAsTheBoundUnet_WhileMembersJoin()
    {
        using var unbound = TinyModelFixture.NewGenerator(o => o.UseIoBinding = false);
        var init = (await fixture.Generator.GenerateAsync(Dpm("a green square", 78), null, Ct)).Images[0].Png;
        GenerationRequest[] requests =
        [
            Dpm("a red circle on a blue background", 21) with { BatchSize = 2 },
            Dpm("a blue square", 22) with { InitImage = init, Strength = 0.6f }, // joins at step 2: the layout changes
            Dpm("a yellow triangle", 23) with { GuidanceScale = 1f },
        ];

        var bound = await fixture.Generator.GenerateBatchAsync(requests.Select(r => new BatchItem(r, null, Ct)).ToList(), Ct);
        var plain = await unbound.GenerateBatchAsync(requests.Select(r => new BatchItem(r, null, Ct)).ToList(), Ct);

        for (var i = 0; i < requests.Length; i++)
        {
            var a = bound[i].Result!;
            var b = plain[i].Result!;
            Assert.Equal(a.Images.Select(x => ImageAssert.Pixels(x.Png)).SelectMany(p => p), b.Images.Select(x => ImageAssert.Pixels(x.Png)).SelectMany(p => p));
        }
    }

    [Fact]
    public async Task DecodingOffTheLoop_GivesTheSameImages_InSharedAndSingleCalls()
    {
        var init = (await fixture.Generator.GenerateAsync(Dpm("a green square", 79), null, Ct)).Images[0].Png;
        GenerationRequest[] requests =
        [
            Dpm("a red circle on a blue background", 31) with { BatchSize = 2 },
            Dpm("a blue square", 32) with { InitImage = init, Strength = 0.6f }, // finishes later than the others
            Dpm("a yellow triangle", 33) with { GuidanceScale = 1f },
            Dpm("a yellow star", 34) with { InitImage = init, Strength = 0f }, // no step at all: decoded at once
        ];
        var items = requests.Select(r => new BatchItem(r, null, Ct)).ToList();
        var loop = await fixture.Generator.GenerateBatchAsync(items, Ct);

        foreach (var perCall in new[] { 1, 0 })
        {
            using var offLoop = TinyModelFixture.NewGenerator(o => (o.DecodeOffLoop, o.DecodeImagesPerCall) = (true, perCall));
            var decoded = await offLoop.GenerateBatchAsync(items, Ct);
            for (var i = 0; i < requests.Length; i++)
                ImageAssert.SameImages(loop[i].Result!, Assert.IsType<GenerationResult>(decoded[i].Result), $"request {i}, {perCall} a call");
            var single = await offLoop.GenerateAsync(requests[0], null, Ct);
            ImageAssert.SameImages(loop[0].Result!, single, $"alone, {perCall} a call");
        }
    }

    [Fact]
    public async Task SamplerSteps_OnTheLoopsThread_OrInParallel_GiveTheSameImages_AndTheLoopsPartsAreTimed()
    {
        // 5 members (4+ may go parallel); the default keeps this small run's sampler work on the loop's thread
        GenerationRequest[] requests =
        [
            Dpm("a red circle on a blue background", 41) with { BatchSize = 2 },
            Dpm("a blue square", 42) with { GuidanceScale = 1f },
            Dpm("a yellow triangle", 43) with { NegativePrompt = "red", GuidanceScale = 5f },
            Dpm("a green star", 44) with { GuidanceRescale = 0.5f },
            Dpm("a white circle", 45),
        ];
        var items = requests.Select(r => new BatchItem(r, null, Ct)).ToList();
        var onLoop = await fixture.Generator.GenerateBatchAsync(items, Ct);
        using var parallel = TinyModelFixture.NewGenerator(o => o.SamplerParallelFrom = 1);
        var spread = await parallel.GenerateBatchAsync(items, Ct);

        for (var i = 0; i < requests.Length; i++)
        {
            ImageAssert.SameImages(Assert.IsType<GenerationResult>(onLoop[i].Result), Assert.IsType<GenerationResult>(spread[i].Result), $"request {i}");
            var timings = onLoop[i].Result!.StageTimings;
            Assert.True(timings[StageTimings.Advance] > TimeSpan.Zero, $"request {i}: no sampler time in the loop");
            Assert.True(timings[StageTimings.Advance] + timings[StageTimings.Leave] + timings[StageTimings.Unet] <= timings[StageTimings.Loop],
                $"request {i}: the loop's parts exceed it");
        }
    }

    [Fact]
    public async Task AncestralSamplerSteps_OnTheLoopsThread_OrInParallel_GiveTheSameImages()
    {
        // Euler a draws fresh noise at every step, which weighs its members' work 32 times in the choice
        GenerationRequest[] requests = [.. Enumerable.Range(0, 5).Select(i => EulerA($"a {(i % 2 == 0 ? "red" : "blue")} circle", 50 + i) with
        {
            Temperature = 0.8f + 0.1f * i, GuidanceScale = i == 3 ? 1f : 6f,
        })];
        var items = requests.Select(r => new BatchItem(r, null, Ct)).ToList();
        using var parallel = TinyModelFixture.NewGenerator(o => o.SamplerParallelFrom = 1);
        using var onLoop = TinyModelFixture.NewGenerator(o => o.SamplerParallelFrom = int.MaxValue);

        var spread = await parallel.GenerateBatchAsync(items, Ct);
        var alone = await onLoop.GenerateBatchAsync(items, Ct);

        for (var i = 0; i < requests.Length; i++)
            ImageAssert.SameImages(Assert.IsType<GenerationResult>(alone[i].Result), Assert.IsType<GenerationResult>(spread[i].Result), $"request {i}");
    }

    [Fact]
    public async Task SharedRun_EulerAncestral_WithTemperatures_MatchesEachRequestRunAlone()
    {
        GenerationRequest[] requests =
        [
            EulerA("a red circle on a blue background", 11) with { Temperature = 0.8f, BatchSize = 2 },
            EulerA("a green square", 12) with { Temperature = 1.2f, GuidanceScale = 1f },
            EulerA("a blue triangle", 13) with { NegativePrompt = "red", GuidanceScale = 6f },
        ];

        var outcomes = await fixture.Generator.GenerateBatchAsync(requests.Select(r => new BatchItem(r, null, Ct)).ToList(), Ct);

        for (var i = 0; i < requests.Length; i++)
        {
            var alone = await fixture.Generator.GenerateAsync(requests[i], null, Ct);
            ImageAssert.SameImages(alone, outcomes[i].Result!, $"request {i}");
            Assert.Equal(4, outcomes[i].Result!.SharedBatchSize);
        }
    }

    [Fact]
    public async Task CancellingOneItem_LeavesTheOthersUnchanged()
    {
        GenerationRequest[] requests =
        [
            Dpm("a red circle on a blue background", 21),
            Dpm("a green square", 22) with { BatchSize = 2 },
            Dpm("a yellow triangle", 23),
        ];
        using var cancelSecond = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        var secondSteps = 0;
        var progress = new CallbackProgress(p =>
        {
            secondSteps = p.Step;
            if (p.Step == 2)
                cancelSecond.Cancel();
        });
        BatchItem[] items =
        [
            new(requests[0], null, Ct),
            new(requests[1], progress, cancelSecond.Token),
            new(requests[2], null, Ct),
        ];

        var outcomes = await fixture.Generator.GenerateBatchAsync(items, Ct);

        Assert.True(outcomes[1].Cancelled);
        Assert.IsAssignableFrom<OperationCanceledException>(outcomes[1].Error);
        Assert.Null(outcomes[1].Result);
        Assert.Equal(2, secondSteps); // it left at the next step boundary
        foreach (var i in new[] { 0, 2 })
        {
            var alone = await fixture.Generator.GenerateAsync(requests[i], null, Ct);
            ImageAssert.SameImages(alone, outcomes[i].Result!, $"request {i}");
            Assert.Equal(4, outcomes[i].Result!.SharedBatchSize);
        }
    }

    [Fact]
    public async Task ItemsCancelledBeforeAndDuringTheRun_EachReportCancellation_AndTheEngineStaysUsable()
    {
        using var before = new CancellationTokenSource();
        await before.CancelAsync();
        using var during = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        var steps = 0;
        var progress = new CallbackProgress(p =>
        {
            steps = p.Step;
            if (p.Step == 1)
                during.Cancel();
        });
        BatchItem[] items = [new(Dpm("a red circle", 51), null, before.Token), new(Dpm("a green square", 52), progress, during.Token)];

        var outcomes = await fixture.Generator.GenerateBatchAsync(items, Ct);

        Assert.All(outcomes, o => Assert.True(o.Cancelled, o.Error?.ToString()));
        Assert.Equal(1, steps);
        var after = await fixture.Generator.GenerateAsync(Dpm("a green square", 52), null, Ct);
        Assert.Equal(1, after.SharedBatchSize);
    }

    [Fact]
    public async Task FailingItems_FailAlone()
    {
        var corrupt = new byte[2048];
        new Random(5).NextBytes(corrupt);
        GenerationRequest[] requests =
        [
            Dpm("a red circle on a blue background", 31),
            Dpm("a green square", 32) with { InitImage = corrupt, Strength = 0.5f },
            Dpm("a yellow triangle", 33) with { Steps = 5, GuidanceScale = 99f },
            Dpm("a blue square", 34),
            Dpm("a blue square", 35),
        ];
        BatchItem[] items =
        [
            new(requests[0], null, Ct),
            new(requests[1], null, Ct),
            new(requests[2], null, Ct),
            new(requests[3], new CallbackProgress(_ => throw new InvalidOperationException("sink broke")), Ct),
            new(requests[4], null, Ct),
        ];

        var outcomes = await fixture.Generator.GenerateBatchAsync(items, Ct);

        Assert.IsAssignableFrom<InvalidGenerationRequestException>(outcomes[1].Error);
        Assert.IsType<SettingOutOfRangeException>(outcomes[2].Error);
        Assert.Equal("sink broke", Assert.IsType<InvalidOperationException>(outcomes[3].Error).Message);
        foreach (var i in new[] { 0, 4 })
        {
            var alone = await fixture.Generator.GenerateAsync(requests[i], null, Ct);
            ImageAssert.SameImages(alone, outcomes[i].Result!, $"request {i}");
        }
    }

    [Fact]
    public async Task MixedKeys_AreRefused()
    {
        BatchItem[] items = [new(Dpm("a", 1), null, Ct), new(Dpm("b", 2) with { Steps = 6 }, null, Ct)];

        var error = await Assert.ThrowsAsync<ArgumentException>(() => fixture.Generator.GenerateBatchAsync(items, Ct));
        Assert.Contains("Item 1", error.Message);
        Assert.NotEqual(fixture.Generator.KeyOf(items[0].Request), fixture.Generator.KeyOf(items[1].Request));
        Assert.Equal(fixture.Generator.KeyOf(items[0].Request), fixture.Generator.KeyOf(Dpm("other", 9) with { GuidanceScale = 2f, Strength = 0.3f }));
    }

    [Fact]
    public async Task CancellingTheCall_StopsEverything()
    {
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        var progress = new CallbackProgress(p =>
        {
            if (p.Step == 1)
                cts.Cancel();
        });
        BatchItem[] items = [new(Dpm("a", 1), progress, Ct), new(Dpm("b", 2), null, Ct)];

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => fixture.Generator.GenerateBatchAsync(items, cts.Token));
        // The engine is usable afterwards.
        var after = await fixture.Generator.GenerateAsync(Dpm("a", 1), null, Ct);
        Assert.Single(after.Images);
    }

    [Fact]
    public async Task PreviewDemand_RendersPreviewsOnlyWhenWanted()
    {
        var never = new DemandProgress(_ => false);
        var evenSteps = new DemandProgress(step => step % 2 == 0);
        var plain = new DemandProgress(null);
        BatchItem[] items =
        [
            new(Dpm("a red circle", 41) with { PreviewInterval = 1 }, never, Ct),
            new(Dpm("a green square", 42) with { PreviewInterval = 1 }, evenSteps, Ct),
            new(Dpm("a yellow triangle", 43) with { PreviewInterval = 1, BatchSize = 2 }, plain, Ct),
        ];

        var outcomes = await fixture.Generator.GenerateBatchAsync(items, Ct);

        Assert.All(outcomes, o => Assert.NotNull(o.Result));
        Assert.Equal(5, never.Reports.Count);
        Assert.All(never.Reports, r => Assert.Null(r.Previews));
        Assert.Equal([1, 2, 3, 4, 5], never.Asked);
        Assert.Equal([2, 4], evenSteps.Reports.Where(r => r.Previews is not null).Select(r => r.Step));
        Assert.All(plain.Reports, r => Assert.Equal(2, r.Previews!.Count));
        Assert.Equal(5, plain.Reports.Count);
    }

    [Fact]
    public void MaxBatchImages_GrowsWithTheBudget_AndCoversTheOwnBatch()
    {
        var folder = Path.GetFullPath(TestPaths.TinyModel);
        int Max(int budgetMb, GenerationRequest request)
        {
            using var generator = new DiffusionImageGenerator(new InferenceOptions
            {
                ModelsRoot = Path.GetDirectoryName(folder)!,
                DefaultModel = Path.GetFileName(folder),
                Provider = ExecutionProviderPreference.Cpu,
                BatchMemoryBudgetMB = budgetMb,
            });
            return generator.MaxBatchImages(request);
        }

        var small = Max(64, Dpm("a", 1));
        var large = Max(1024, Dpm("a", 1));
        Assert.True(large > small, $"{large} > {small}");
        Assert.True(small >= 1);
        Assert.Equal(3, Max(1, Dpm("a", 1) with { BatchSize = 3 }));
        Assert.True(Max(1024, Dpm("a", 1) with { Width = 256, Height = 256 }) < large);
        Assert.Throws<ArgumentException>(() => new DiffusionImageGenerator(new InferenceOptions
        {
            ModelsRoot = Path.GetDirectoryName(folder)!,
            Provider = ExecutionProviderPreference.Cpu,
            BatchMemoryBudgetMB = -1,
        }));
    }

    [Fact]
    public void AutomaticBudget_OnCuda_IsSplitAmongTheEnginesSharingTheDevice_ButNotOnCpuNorAConfiguredOne()
    {
        var one = new InferenceOptions { ModelsRoot = Path.GetTempPath() };
        var two = new InferenceOptions { ModelsRoot = Path.GetTempPath(), EnginesSharingDevice = 2 };
        var four = new InferenceOptions { ModelsRoot = Path.GetTempPath(), EnginesSharingDevice = 4 };

        Assert.Equal(1, one.EnginesSharingDevice);
        Assert.Equal(16384, one.EffectiveBatchMemoryBudgetMB("CUDA"));
        Assert.Equal(one.EffectiveBatchMemoryBudgetMB("CUDA") / 2, two.EffectiveBatchMemoryBudgetMB("CUDA"));
        Assert.Equal(4096, four.EffectiveBatchMemoryBudgetMB("cuda"));
        Assert.Equal(512, one.EffectiveBatchMemoryBudgetMB("CPU"));
        Assert.Equal(512, two.EffectiveBatchMemoryBudgetMB("CPU")); // one engine on the CPU: nothing to split
        var configured = new InferenceOptions { ModelsRoot = Path.GetTempPath(), EnginesSharingDevice = 2, BatchMemoryBudgetMB = 3000 };
        Assert.Equal(3000, configured.EffectiveBatchMemoryBudgetMB("CUDA")); // a configured budget is each engine's own
        Assert.Equal(3000, configured.EffectiveBatchMemoryBudgetMB("CPU"));
    }

    [Fact]
    public void MaxBatchImages_OnCpu_IsTheSameWhateverTheEnginesSharingTheDevice()
    {
        var folder = Path.GetFullPath(TestPaths.TinyModel);
        int Max(int sharing)
        {
            using var generator = new DiffusionImageGenerator(new InferenceOptions
            {
                ModelsRoot = Path.GetDirectoryName(folder)!,
                DefaultModel = Path.GetFileName(folder),
                Provider = ExecutionProviderPreference.Cpu,
                EnginesSharingDevice = sharing,
            });
            return generator.MaxBatchImages(Dpm("a", 1));
        }

        Assert.Equal(Max(1), Max(4));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(17)]
    public void EnginesSharingDevice_OutOfRange_IsRefusedAtStart(int sharing)
    {
        var options = new InferenceOptions { ModelsRoot = Path.GetTempPath(), EnginesSharingDevice = sharing };
        Assert.Contains(options.Validate(), e => e.Contains("EnginesSharingDevice must be between 1", StringComparison.Ordinal));
        Assert.Throws<ArgumentException>(options.ThrowIfInvalid);
        Assert.Empty(new InferenceOptions { ModelsRoot = Path.GetTempPath(), EnginesSharingDevice = 16 }.Validate());
    }

    [Fact]
    public void DecodeThread_WithoutDecodingOffTheLoop_IsRefusedAtStart()
    {
        var options = new InferenceOptions { ModelsRoot = Path.GetTempPath(), DecodeThread = true };
        Assert.Contains(options.Validate(), e => e.Contains("DecodeThread needs DecodeOffLoop", StringComparison.Ordinal));
        options.DecodeOffLoop = true;
        Assert.Empty(options.Validate());
    }

    private sealed class DemandProgress(Func<int, bool>? wants) : IProgress<GenerationProgress>, IPreviewDemand
    {
        public List<GenerationProgress> Reports { get; } = [];
        public List<int> Asked { get; } = [];

        public void Report(GenerationProgress value) => Reports.Add(value);

        public bool WantsPreview(int step, int totalSteps)
        {
            Asked.Add(step);
            return wants?.Invoke(step) ?? true;
        }
    }
}
