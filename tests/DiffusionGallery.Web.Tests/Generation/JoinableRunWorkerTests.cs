using System.Diagnostics;
using DiffusionGallery.Inference;
using DiffusionGallery.Inference.Abstractions;
using DiffusionGallery.Inference.Pipeline;
using DiffusionGallery.Web.Data.Entities;
using DiffusionGallery.Web.Generation;
using DiffusionGallery.Web.Options;
using DiffusionGallery.Web.Tests.Support;
using Microsoft.EntityFrameworkCore;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;

namespace DiffusionGallery.Web.Tests.Generation;

/// <summary>
/// Generation:JoinRunningRuns through the worker with the real engine (bundled model, CPU): a job submitted while
/// another user's run is going joins it at a step boundary, each result is saved as soon as it is done, and each image
/// is the one the job would have had alone.
/// </summary>
public sealed class JoinableRunWorkerTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static EngineDevices RealEngine() => new([DeviceEngine.For(0, BundledModel.Generator)]);

    [Fact]
    public async Task AJobSubmittedMidRun_JoinsIt_AndEachJobIsSavedWithTheImageItWouldHaveAlone()
    {
        using var h = new QueueHarness(new GenerationOptions { GatherWindowMs = 0 });
        var (ua, ub) = (await h.Database.AddUserAsync("a@x.test"), await h.Database.AddUserAsync("b@x.test"));
        var first = await h.SubmitAsync(ua, QueueHarness.Settings("a red circle on a blue background", steps: 40, seed: 5), null, Ct);
        Task<GenerationJob>? late = null;
        var firstStepAtJoin = 0;
        // (joining at step 12 or later leaves the late job 12+ steps after the first one's end: room for the first one's
        // save, on its own thread, to finish before the late one's even on a loaded two-core machine)
        using var watchFirst = h.Notifier.Subscribe(first.Id, update =>
        {
            if (update is { State: JobState.Running, Step: >= 12 } && late is null)
            {
                firstStepAtJoin = update.Step;
                late = h.SubmitAsync(ub, QueueHarness.Settings("a yellow triangle", steps: 40, seed: 6), null, Ct);
            }
            return Task.CompletedTask;
        });
        using var worker = h.CreateWorker(RealEngine());
        await worker.StartAsync(Ct);

        var jobs = await WaitForJobsAsync(h, 2);
        await worker.StopAsync(Ct);

        var a = jobs.Single(j => j.Id == first.Id);
        var b = jobs.Single(j => j.Id != first.Id);
        Assert.Equal(2, a.BatchSize); // they shared UNet calls
        Assert.Equal(2, b.BatchSize);
        Assert.True(b.StartedAt < a.FinishedAt, "the late job started while the first one ran");
        Assert.True(a.FinishedAt < b.FinishedAt, "the first job was saved without waiting for the late one");
        Assert.InRange(firstStepAtJoin, 12, 39);
        await AssertEachStoredAsAloneAsync(h, jobs);
    }

    [Fact]
    public async Task AJobOfAnotherKeyAtTheFrontOfTheQueue_IsNotPassedByLaterJobsThatCouldJoin()
    {
        using var h = new QueueHarness(new GenerationOptions { GatherWindowMs = 0 });
        // b asks for another step count (another batch key), then c for the running run's key: c must wait behind b
        var (a, b, c) = await RunWithTwoLateJobsAsync(h, QueueHarness.Settings("a red circle", steps: 24, seed: 1),
            QueueHarness.Settings("a green square", steps: 10, seed: 2), QueueHarness.Settings("a blue star", steps: 24, seed: 3));

        // c could have joined the first run, but b came first: nobody joined, and c started after b
        Assert.Equal([1, 1, 1], new[] { a, b, c }.Select(j => j.BatchSize));
        Assert.True(c.StartedAt >= b.StartedAt, "c did not pass b");
    }

    [Fact]
    public async Task AFullRun_HasTheNextJobReadyBeforeItsRoomFrees_ButNoMoreThanOneRunsWorth()
    {
        // one image a run: the run is full with a's job; b's is claimed and loaded while a's runs (one run's worth
        // ahead), so it follows at the step a's ends; c's waits in the queue until there is room again
        using var h = new QueueHarness(new GenerationOptions { GatherWindowMs = 0, MaxImagesPerRun = 1 });
        // (progress reaches a handler late and may be coalesced: "half way" is seen at or after a's step 20 and, unless the
        // machine stalls for 20 steps, long before a leaves the run at step 40)
        DateTimeOffset? aHalfWay = null;
        var (a, b, c) = await RunWithTwoLateJobsAsync(h, QueueHarness.Settings("a red circle", steps: 40, seed: 11),
            QueueHarness.Settings("a green square", steps: 40, seed: 12), QueueHarness.Settings("a blue star", steps: 40, seed: 13),
            update => { if (update.Step >= 20) aHalfWay ??= h.Time.GetUtcNow(); });

        Assert.Equal([1, 1, 1], new[] { a, b, c }.Select(j => j.BatchSize)); // nobody shared a UNet call
        Assert.NotNull(aHalfWay);
        Assert.True(b.StartedAt < aHalfWay, "b was claimed and loaded while a ran");
        Assert.True(c.StartedAt > aHalfWay, "c waited in the queue for room");
        Assert.True(a.FinishedAt <= b.FinishedAt && b.FinishedAt <= c.FinishedAt, "in queue order");
        // b's GPU time (quota, fair share) counts from when the engine took it, not the time it waited ready
        await using (var db = h.Database.CreateDbContext())
        {
            var charged = await db.UsageEntries.Where(u => u.JobId == b.Id && u.Kind == UsageKind.Charge).SumAsync(u => u.GpuSeconds, Ct);
            var held = (b.FinishedAt!.Value - b.StartedAt!.Value).TotalSeconds;
            // (b is claimed around a's step 4 of 40 and charged from its first step, ~55 % of the time it is held; charged
            // from the claim, it would be all of it but the save, ~95 %. On a loaded machine the claim comes later — before
            // a's step 20 is seen, which the test checks — and the share rises: 70.5 % seen once in a full CI run.)
            Assert.True(charged >= 0.01 && charged <= 0.8 * held, $"charged {charged:F3} s of {held:F3} s held");
        }
        await AssertEachStoredAsAloneAsync(h, new[] { b, c });
    }

    [Fact]
    public async Task TwoEnginesOnADevice_RunTheNextJobBesideTheFirst_AndNeitherKeepsAJobReadyAhead()
    {
        // one image a run, two engines on device 0 (Inference:EnginesPerDevice 2) and Generation:ReadyAhead automatic,
        // so off: b's job runs on the other engine while a's runs, and c's is not claimed ahead by either run (the
        // other engine would find the queue emptied by it): it waits in the queue until a run has room again
        using var h = new QueueHarness(new GenerationOptions { GatherWindowMs = 0, MaxImagesPerRun = 1 });
        Assert.Null(h.Options.ReadyAhead);
        var second = BundledModel.NewGenerator();
        using var engines = new EngineDevices([DeviceEngine.For(0, BundledModel.Generator), DeviceEngine.For(0, second)], [second]);
        // (both load their sessions first, as ModelWarmup does, so that neither run waits for that)
        await BundledModel.Generator.LoadModelAsync(null, Ct);
        await second.LoadModelAsync(null, Ct);
        // (progress reaches a handler late and may be coalesced: a step is seen at or after the time it is reached)
        DateTimeOffset? aHalfWay = null, bQuarterWay = null;
        var (a, b, c) = await RunWithTwoLateJobsAsync(h, QueueHarness.Settings("a red circle", steps: 40, seed: 21),
            QueueHarness.Settings("a green square", steps: 40, seed: 22), QueueHarness.Settings("a blue star", steps: 40, seed: 23),
            update => { if (update.Step >= 20) aHalfWay ??= h.Time.GetUtcNow(); }, engines,
            update => { if (update.Step >= 10) bQuarterWay ??= h.Time.GetUtcNow(); });

        Assert.Equal([1, 1, 1], new[] { a, b, c }.Select(j => j.BatchSize)); // nobody shared a UNet call
        Assert.NotNull(aHalfWay);
        Assert.NotNull(bQuarterWay);
        Assert.True(b.StartedAt < aHalfWay, "b was claimed while a ran");
        // (a run keeping b ready for the step a's ends would only start it then)
        Assert.True(bQuarterWay < a.FinishedAt, "b ran on the other engine beside a");
        // (with one run's worth ready ahead, the run of a or of b would have claimed c at once, around a's step 4)
        Assert.True(c.StartedAt > aHalfWay, "c was not claimed ahead while a ran");
        Assert.True(c.StartedAt > bQuarterWay, "c was not claimed ahead while b ran");
        // (c takes the room of whichever run ends first; after that, c and the other run share two CPU cores, so which of
        // them ends first is up to the machine)
        var firstRoom = a.FinishedAt < b.FinishedAt ? a.FinishedAt : b.FinishedAt;
        Assert.True(firstRoom < c.FinishedAt, "c ran when a run had room again");
        await AssertEachStoredAsAloneAsync(h, new[] { a, b, c });
    }

    [Fact]
    public async Task ShuttingDownMidRun_LeavesTheFirstJobAndTheJoinerRunning_AndStartUpRequeuesBoth()
    {
        using var h = new QueueHarness(new GenerationOptions { GatherWindowMs = 0 });
        var (ua, ub) = (await h.Database.AddUserAsync("a@x.test"), await h.Database.AddUserAsync("b@x.test"));
        var first = await h.SubmitAsync(ua, QueueHarness.Settings("a red circle", steps: 100, seed: 7), null, Ct);
        Task<GenerationJob>? late = null;
        var joinerStepping = new TaskCompletionSource<Guid>(TaskCreationOptions.RunContinuationsAsynchronously);
        using var watchFirst = h.Notifier.Subscribe(first.Id, update =>
        {
            if (update is { State: JobState.Running, Step: >= 3 } && late is null)
            {
                late = h.SubmitAsync(ub, QueueHarness.Settings("a green square", steps: 100, seed: 8), null, Ct);
                late.ContinueWith(t => h.Notifier.Subscribe(t.Result.Id, u =>
                {
                    if (u is { State: JobState.Running, Step: >= 2 }) joinerStepping.TrySetResult(t.Result.Id);
                    return Task.CompletedTask;
                }), Ct, TaskContinuationOptions.OnlyOnRanToCompletion, TaskScheduler.Default);
            }
            return Task.CompletedTask;
        });
        using var worker = h.CreateWorker(RealEngine());
        await worker.StartAsync(Ct);

        var joiner = await joinerStepping.Task.WaitAsync(TimeSpan.FromSeconds(60), Ct); // it joined and runs beside the first
        await worker.StopAsync(Ct);

        await using (var db = h.Database.CreateDbContext())
        {
            var rows = await db.GenerationJobs.Include(j => j.Images).ToListAsync(Ct);
            Assert.Equal(2, rows.Count);
            Assert.All(rows, r => Assert.Equal((JobState.Running, 1, 0), (r.State, r.Attempts, r.Images.Count))); // not failed, not cancelled
        }
        Assert.Equal(0, h.Queue.RunningCount);
        await h.CreateRecovery().StartAsync(Ct);
        Assert.NotNull(h.Queue.GetPosition(first.Id));
        Assert.NotNull(h.Queue.GetPosition(joiner));
    }

    /// <summary>
    /// a's job runs alone; once it has run 4 steps (or more: progress may be coalesced on its way to a handler) b's and
    /// then c's are submitted, each by its own user. Returns the three jobs as stored when all have ended.
    /// </summary>
    /// <param name="engines">The worker's engines (default: the bundled model's one).</param>
    /// <param name="onProgressOfB">Sees b's progress updates from when its submission returned.</param>
    private static async Task<(GenerationJob A, GenerationJob B, GenerationJob C)> RunWithTwoLateJobsAsync(QueueHarness h,
        GenerationSettings aSettings, GenerationSettings bSettings, GenerationSettings cSettings, Action<JobUpdate>? onProgressOfA = null,
        EngineDevices? engines = null, Action<JobUpdate>? onProgressOfB = null)
    {
        var (ua, ub, uc) = (await h.Database.AddUserAsync("a@x.test"), await h.Database.AddUserAsync("b@x.test"), await h.Database.AddUserAsync("c@x.test"));
        var first = await h.SubmitAsync(ua, aSettings, null, Ct);
        var submitted = new List<GenerationJob>();
        var submitting = 0;
        IDisposable? watchSecond = null;
        using var watchFirst = h.Notifier.Subscribe(first.Id, async update =>
        {
            if (update.State != JobState.Running) return;
            onProgressOfA?.Invoke(update);
            if (update.Step < 4 || Interlocked.Exchange(ref submitting, 1) == 1) return;
            var second = await h.SubmitAsync(ub, bSettings, null, Ct);
            if (onProgressOfB is not null)
            {
                watchSecond = h.Notifier.Subscribe(second.Id, u =>
                {
                    if (u.State == JobState.Running) onProgressOfB(u);
                    return Task.CompletedTask;
                });
            }
            submitted.Add(second);
            submitted.Add(await h.SubmitAsync(uc, cSettings, null, Ct));
        });
        using var worker = h.CreateWorker(engines ?? RealEngine());
        await worker.StartAsync(Ct);

        var jobs = await WaitForJobsAsync(h, 3);
        await worker.StopAsync(Ct);
        watchSecond?.Dispose();
        return (jobs.Single(j => j.Id == first.Id), jobs.Single(j => j.Id == submitted[0].Id), jobs.Single(j => j.Id == submitted[1].Id));
    }

    /// <summary>Each job's stored image is the one it would have had alone (within 1/255 per channel).</summary>
    private static async Task AssertEachStoredAsAloneAsync(QueueHarness h, IEnumerable<GenerationJob> jobs)
    {
        foreach (var job in jobs)
        {
            var alone = await BundledModel.Generator.GenerateAsync(h.RequestFactory.ToEngineRequest(job.Settings), null, Ct);
            using var expected = Image.Load<Rgb24>(alone.Images[0].Png);
            using var stored = await Image.LoadAsync<Rgb24>(h.Store.GetImagePath(job.Images.Single().Id), Ct);
            AssertSamePixels(expected, stored, job.Settings.Prompt);
        }
    }

    private static void AssertSamePixels(Image<Rgb24> expected, Image<Rgb24> actual, string label)
    {
        Assert.Equal((expected.Width, expected.Height), (actual.Width, actual.Height));
        var worst = 0;
        for (var y = 0; y < expected.Height; y++)
        for (var x = 0; x < expected.Width; x++)
        {
            var (e, a) = (expected[x, y], actual[x, y]);
            worst = Math.Max(worst, Math.Max(Math.Abs(e.R - a.R), Math.Max(Math.Abs(e.G - a.G), Math.Abs(e.B - a.B))));
        }
        Assert.True(worst <= 1, $"{label}: pixels differ by up to {worst}/255");
    }

    /// <summary>Waits (at most 60 s) until <paramref name="count"/> jobs have succeeded; returns them with their images.</summary>
    private static async Task<List<GenerationJob>> WaitForJobsAsync(QueueHarness h, int count)
    {
        var clock = Stopwatch.StartNew();
        while (true)
        {
            await using var db = h.Database.CreateDbContext();
            var done = await db.GenerationJobs.Include(j => j.Images).Where(j => j.State == JobState.Succeeded).ToListAsync(Ct);
            if (done.Count >= count) return done;
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(60), $"{done.Count} of {count} jobs finished in 60 s");
            await Task.Delay(50, Ct);
        }
    }
}
