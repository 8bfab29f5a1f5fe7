using System.Collections.Concurrent;
using DiffusionGallery.Inference.Abstractions;
using DiffusionGallery.Inference.Tests.Support;

namespace DiffusionGallery.Inference.Tests.Pipeline;

/// <summary>
/// Continuous batching (IBatchImageGenerator.RunJoinableAsync) on the bundled model, CPU: items join a running run at
/// a step boundary and leave it when done, each with the images it would have had alone.
/// </summary>
[Collection(TinyModelCollection.Name)]
public sealed class JoinableRunTests(TinyModelFixture fixture)
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static GenerationRequest Dpm(string prompt, long seed) => SharedRunRequests.Dpm(prompt, seed) with { Steps = 8 };

    [Fact]
    public async Task AnItemJoiningMidRun_GetsTheImagesItWouldHaveAlone_AndFinishesAfterTheFirst()
    {
        var feed = new TestRunFeed();
        var joinerSteps = new ConcurrentQueue<int>();
        var firstStepWhenJoinerStarted = -1;
        var firstStep = 0;
        var late = Dpm("a blue square on a red background", 32) with { NegativePrompt = "circle", GuidanceScale = 4.5f };
        var joiner = new BatchItem(late, new CallbackProgress(p =>
        {
            if (joinerSteps.IsEmpty) firstStepWhenJoinerStarted = Volatile.Read(ref firstStep);
            joinerSteps.Enqueue(p.Step);
        }), Ct);
        var first = new BatchItem(Dpm("a red circle on a blue background", 31) with { BatchSize = 2 }, new CallbackProgress(p =>
        {
            Volatile.Write(ref firstStep, p.Step);
            if (p.Step == 3) feed.Release(joiner);
        }), Ct);

        await fixture.Generator.RunJoinableAsync([first], feed, maxImages: 4, Ct);

        Assert.Equal(2, feed.Finished.Count);
        Assert.Same(first, feed.Finished[0].Item); // it finished first and was handed on without waiting for the joiner
        Assert.Same(joiner, feed.Finished[1].Item);
        Assert.Equal([1, 1], feed.EndedTogether);
        Assert.Equal(4, firstStepWhenJoinerStarted); // released after step 3, it ran its first step beside the first item's 4th
        Assert.Equal(Enumerable.Range(1, 8), joinerSteps); // and ran all of its own steps
        Assert.Equal(2, feed.FreeImagesAsked[0]); // 4 places, 2 taken by the first item
        foreach (var (item, outcome) in feed.Finished)
        {
            var alone = await fixture.Generator.GenerateAsync(item.Request, null, Ct);
            var shared = Assert.IsType<GenerationResult>(outcome.Result);
            ImageAssert.SameImages(alone, shared, item.Request.Prompt);
            Assert.Equal(3, shared.SharedBatchSize); // 2 + 1 images in the calls they shared
        }
    }

    [Fact]
    public async Task TheStepLoop_ReportsItsSteps_TheirImages_AndWhereItsTimeWent()
    {
        var feed = new TestRunFeed();
        var joiner = new BatchItem(Dpm("a blue square on a red background", 32), null, Ct);
        var first = new BatchItem(Dpm("a red circle on a blue background", 31) with { BatchSize = 2 }, new CallbackProgress(p =>
        {
            if (p.Step == 3) feed.Release(joiner);
        }), Ct);

        await fixture.Generator.RunJoinableAsync([first], feed, maxImages: 4, Ct);

        // 8 steps of 2 images, the joiner's 8 steps of 1 from the first item's 4th: 11 UNet calls, 24 image-steps
        var reports = feed.LoopReports;
        Assert.NotEmpty(reports);
        Assert.Equal(11, reports.Sum(r => r.Steps));
        Assert.Equal(24, reports.Sum(r => r.ImageSteps));
        Assert.All(reports, r =>
        {
            Assert.InRange(r.Stepping + r.Waiting, TimeSpan.Zero, r.Wall);
            Assert.InRange(r.Unet, TimeSpan.FromTicks(1), r.Stepping);
        });
        Assert.InRange(reports.Sum(r => r.ImagesPerStep * r.Steps), 23.99, 24.01);
        Assert.All(reports, r => Assert.InRange(r.SideBusy, TimeSpan.Zero, r.Wall)); // (zero: this engine has no side thread)
    }

    [Fact]
    public async Task JoinersThatDoNotFit_WaitForRoom_AndBadOrCancelledJoinersFailAlone()
    {
        var feed = new TestRunFeed();
        using var cancelled = new CancellationTokenSource();
        await cancelled.CancelAsync();
        var invalid = new BatchItem(Dpm("a green square", 43) with { GuidanceScale = -1f }, null, Ct);
        var gone = new BatchItem(Dpm("a yellow triangle", 44), null, cancelled.Token);
        var big = new BatchItem(Dpm("a yellow star", 45) with { BatchSize = 2 }, null, Ct);
        var first = new BatchItem(Dpm("a red circle", 41), new CallbackProgress(p =>
        {
            if (p.Step != 2) return;
            feed.Release(invalid);
            feed.Release(gone);
            feed.Release(big);
        }), Ct);

        await fixture.Generator.RunJoinableAsync([first], feed, maxImages: 2, Ct);

        Assert.Equal(4, feed.Finished.Count);
        Assert.IsType<InvalidGenerationRequestException>(feed.OutcomeOf(invalid).Error, exactMatch: false);
        Assert.True(feed.OutcomeOf(gone).Cancelled);
        Assert.All(new[] { first, big }, i => Assert.NotNull(feed.OutcomeOf(i).Result));
        // "big" (2 images) fitted only once "first" had left: it never shared a call with it
        Assert.Equal(2, feed.OutcomeOf(big).Result!.SharedBatchSize);
        Assert.Equal(1, feed.OutcomeOf(first).Result!.SharedBatchSize);
        Assert.All(feed.FreeImagesAsked, free => Assert.InRange(free, 1, 2));
        ImageAssert.SameImages(await fixture.Generator.GenerateAsync(big.Request, null, Ct), feed.OutcomeOf(big).Result!, "big");
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)] // (decoding on a thread of its own, admissions on the side thread)
    public async Task DecodingOffTheLoop_HandsEachItemOnOnce_WithTheImagesItWouldHaveAlone(bool decodeThread)
    {
        using var generator = TinyModelFixture.NewGenerator(o => (o.DecodeOffLoop, o.AdmitOffLoop, o.DecodeThread) = (true, decodeThread, decodeThread));
        var feed = new TestRunFeed();
        using var cancelled = new CancellationTokenSource();
        var quitter = new BatchItem(Dpm("a yellow triangle", 63), null, cancelled.Token);
        var joiner = new BatchItem(Dpm("a blue square on a red background", 62) with { NegativePrompt = "circle", GuidanceScale = 4.5f }, null, Ct);
        var first = new BatchItem(Dpm("a red circle on a blue background", 61) with { BatchSize = 2 }, new CallbackProgress(p =>
        {
            if (p.Step == 2)
            {
                feed.Release(joiner);
                feed.Release(quitter);
            }
            if (p.Step == 5) cancelled.Cancel();
        }), Ct);

        await generator.RunJoinableAsync([first], feed, maxImages: 4, Ct);

        Assert.Equal(3, feed.Finished.Count);
        Assert.Equal(3, feed.Finished.Select(f => f.Item).Distinct().Count()); // each once
        Assert.True(feed.OutcomeOf(quitter).Cancelled);
        foreach (var item in new[] { first, joiner })
        {
            var alone = await fixture.Generator.GenerateAsync(item.Request, null, Ct); // (decoded on the loop: the default)
            ImageAssert.SameImages(alone, Assert.IsType<GenerationResult>(feed.OutcomeOf(item).Result), item.Request.Prompt);
        }
        // the decodes (and, with the decode thread, the admissions on the side thread) count as the side threads' work
        Assert.True(feed.LoopReports.Sum(r => r.SideBusy.Ticks) > 0, "the side threads' busy time was reported");
    }

    [Fact]
    public async Task AdmittingOffTheLoop_JoinersRunAsAlone_ABadOneFailsAlone_AndALateOneStillRuns()
    {
        using var generator = TinyModelFixture.NewGenerator(o => o.AdmitOffLoop = true);
        var init = (await fixture.Generator.GenerateAsync(Dpm("a green square", 70), null, Ct)).Images[0].Png;
        var feed = new TestRunFeed();
        var late = new BatchItem(Dpm("a red star", 75), null, Ct); // released at the last joiner's last step: the loop has nothing else
        var joiner = new BatchItem(Dpm("a blue square on a red background", 72) with { NegativePrompt = "circle", GuidanceScale = 4.5f },
            new CallbackProgress(p => { if (p.Step == 8) feed.Release(late); }), Ct);
        var remix = new BatchItem(Dpm("a yellow star", 73) with { InitImage = init, Strength = 0.5f }, null, Ct);
        var broken = new BatchItem(Dpm("a white circle", 74) with { InitImage = [0x89, 0x50, 0x4E, 0x47, 1, 2, 3], Strength = 0.5f }, null, Ct);
        var first = new BatchItem(Dpm("a red circle on a blue background", 71) with { BatchSize = 2 }, new CallbackProgress(p =>
        {
            if (p.Step == 2)
            {
                feed.Release(joiner);
                feed.Release(remix);
                feed.Release(broken);
            }
        }), Ct);

        await generator.RunJoinableAsync([first], feed, maxImages: 5, Ct);

        Assert.Equal(5, feed.Finished.Count);
        Assert.Equal(5, feed.Finished.Select(f => f.Item).Distinct().Count()); // each once
        Assert.NotNull(feed.OutcomeOf(broken).Error);
        Assert.False(feed.OutcomeOf(broken).Cancelled);
        Assert.All(feed.FreeImagesAsked, free => Assert.InRange(free, 1, 5)); // joiners being admitted hold their places
        Assert.Equal(1, feed.OutcomeOf(late).Result!.SharedBatchSize); // it ran alone, after the others had left
        foreach (var item in new[] { first, joiner, remix, late })
        {
            var alone = await fixture.Generator.GenerateAsync(item.Request, null, Ct); // (admitted on the loop: the default)
            ImageAssert.SameImages(alone, Assert.IsType<GenerationResult>(feed.OutcomeOf(item).Result), item.Request.Prompt);
        }
    }

    [Fact]
    public async Task CancellingTheRun_HandsEveryItemOnAsCancelled()
    {
        var feed = new TestRunFeed();
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        var joiner = new BatchItem(Dpm("a green square", 52), null, Ct);
        var first = new BatchItem(Dpm("a red circle", 51), new CallbackProgress(p =>
        {
            if (p.Step == 2) feed.Release(joiner);
            if (p.Step == 4) stop.Cancel();
        }), Ct);

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => fixture.Generator.RunJoinableAsync([first], feed, 4, stop.Token));

        Assert.Equal(2, feed.Finished.Count);
        Assert.All(feed.Finished, f => Assert.True(f.Outcome.Cancelled, f.Outcome.Error?.ToString()));
        var after = await fixture.Generator.GenerateAsync(Dpm("a green square", 52), null, Ct); // the engine stays usable
        Assert.Single(after.Images);
    }
}
