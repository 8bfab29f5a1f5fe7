using DiffusionGallery.Web.Data.Entities;
using DiffusionGallery.Web.Generation;
using DiffusionGallery.Web.Options;
using DiffusionGallery.Web.Tests.Support;
using Microsoft.EntityFrameworkCore;

namespace DiffusionGallery.Web.Tests.Generation;

/// <summary>Shared runs across users: which queued jobs fill a run, and how each job of a run ends on its own.</summary>
public sealed class BatchedServingTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    /// <summary>A clock that stands still, so usage does not decay between charges and the fair order is exact.</summary>
    private static QueueHarness StillHarness(GenerationOptions? options = null) =>
        new(options, time: new DiffusionGallery.Web.Tests.Admin.FixedTime(new DateTimeOffset(2026, 12, 6, 10, 0, 0, TimeSpan.Zero)));

    private static async Task<List<List<Guid>>> DrainRunsAsync(QueueHarness h)
    {
        var runs = new List<List<Guid>>();
        while (h.Queue.QueuedCount > 0)
        {
            var run = await h.Queue.DequeueRunAsync(Ct);
            runs.Add(run.Jobs.Select(j => j.JobId).ToList());
            if (h.Time is DiffusionGallery.Web.Tests.Admin.FixedTime clock) clock.Now += TimeSpan.FromSeconds(1); // each run holds the GPU 1 s
            foreach (var job in run.Jobs) h.Queue.Complete(job); // each job is charged its share of that second
        }
        return runs;
    }

    [Fact]
    public async Task Fill_ThreeUsers_SlotsGoToCompatibleJobsInFairShareOrder()
    {
        using var h = StillHarness();
        h.Generator.MaxImages = 3;
        var a = await h.Database.AddUserAsync("a@x.test");
        var b = await h.Database.AddUserAsync("b@x.test");
        var c = await h.Database.AddUserAsync("c@x.test");
        var a1 = await h.SubmitAsync(a, QueueHarness.Settings("a1"), null, Ct);
        var a2 = await h.SubmitAsync(a, QueueHarness.Settings("a2"), null, Ct);
        var a3 = await h.SubmitAsync(a, QueueHarness.Settings("a3"), null, Ct);
        var b1 = await h.SubmitAsync(b, QueueHarness.Settings("b1"), null, Ct);
        var c1 = await h.SubmitAsync(c, QueueHarness.Settings("c1", steps: 8), null, Ct); // another step count: another key
        var b2 = await h.SubmitAsync(b, QueueHarness.Settings("b2"), null, Ct);

        var runs = await DrainRunsAsync(h);

        // a1 heads; B is owed the next slot, C's job cannot join, then A's a2 (submitted before b2) ties B and wins.
        // C, least served, heads the next run alone; then B (charged 1/3 s) before A (2/3 s): b2 heads, a3 joins.
        Assert.Equal([[a1.Id, b1.Id, a2.Id], [c1.Id], [b2.Id, a3.Id]], runs);
    }

    [Theory]
    [InlineData(1, new[] { 1, 1, 1, 1 })] // sharing off: every job alone, as the one-job worker ran them
    [InlineData(3, new[] { 3, 1 })]       // capped below the engine's 8
    [InlineData(0, new[] { 4 })]          // 0 = the engine's budget
    public async Task Fill_MaxImagesPerRun_CapsTheRunBelowTheEnginesBudget(int cap, int[] expected)
    {
        using var h = StillHarness(new GenerationOptions { MaxImagesPerRun = cap });
        h.Generator.MaxImages = 8;
        foreach (var name in new[] { "a", "b", "c", "d" })
        {
            var user = await h.Database.AddUserAsync($"{name}@x.test");
            await h.SubmitAsync(user, QueueHarness.Settings(name), null, Ct);
        }

        var runs = await DrainRunsAsync(h);

        Assert.Equal(expected, runs.Select(r => r.Count));
    }

    [Fact]
    public async Task Fill_IncompatibleJobs_NeverShareARun()
    {
        using var h = StillHarness();
        h.Generator.MaxImages = 8;
        var a = await h.Database.AddUserAsync("a@x.test");
        var b = await h.Database.AddUserAsync("b@x.test");
        var steps = await h.SubmitAsync(a, QueueHarness.Settings("steps", steps: 5), null, Ct);
        var size = QueueHarness.Settings("size");
        size.Width = 64;
        var sized = await h.SubmitAsync(b, size, null, Ct);
        var sampler = QueueHarness.Settings("sampler");
        sampler.Sampler = DiffusionGallery.Inference.Abstractions.SamplerKind.Euler;
        var sampled = await h.SubmitAsync(a, sampler, null, Ct);
        var plain = await h.SubmitAsync(b, QueueHarness.Settings("plain"), null, Ct);

        var runs = await DrainRunsAsync(h);

        // Every run holds one job, though the engine would take 8 images: steps, size and sampler differ.
        Assert.All(runs, run => Assert.Single(run));
        Assert.Equal(new[] { steps.Id, sized.Id, sampled.Id, plain.Id }.Order(), runs.Select(r => r[0]).Order());
    }

    [Fact]
    public async Task Fill_NeverSplitsAJob_AJobThatDoesNotFitWaitsForTheNextRun()
    {
        using var h = StillHarness();
        h.Generator.MaxImages = 3;
        var a = await h.Database.AddUserAsync("a@x.test");
        var b = await h.Database.AddUserAsync("b@x.test");
        var c = await h.Database.AddUserAsync("c@x.test");
        var a1 = await h.SubmitAsync(a, QueueHarness.Settings("a1", batch: 2), null, Ct);
        var b1 = await h.SubmitAsync(b, QueueHarness.Settings("b1", batch: 2), null, Ct);
        var c1 = await h.SubmitAsync(c, QueueHarness.Settings("c1", batch: 1), null, Ct);

        var first = await h.Queue.DequeueRunAsync(Ct);

        Assert.Equal([a1.Id, c1.Id], first.Jobs.Select(j => j.JobId));
        Assert.Equal(3, first.Images);
        Assert.Equal([2.0 / 3, 1.0 / 3], first.Jobs.Select(j => j.Share));
        var second = await h.Queue.DequeueRunAsync(Ct);
        Assert.Equal(b1.Id, Assert.Single(second.Jobs).JobId);
    }

    private static Task<Dictionary<Guid, JobUpdate>> RunAllAsync(QueueHarness h, IReadOnlyList<Guid> jobIds, Action<Guid, JobUpdate>? onUpdate = null) =>
        h.RunUntilFinishedAsync(jobIds, onUpdate, Ct);

    [Fact]
    public async Task Worker_CancelOneJobOfASharedRun_OnlyThatJobIsCancelledAndRefunded_OthersGetImagesAndBatchSize()
    {
        using var h = new QueueHarness();
        h.Generator.MaxImages = 4;
        h.Generator.StepDelay = TimeSpan.FromMilliseconds(40);
        var a = await h.Database.AddUserAsync("a@x.test");
        var b = await h.Database.AddUserAsync("b@x.test");
        var c = await h.Database.AddUserAsync("c@x.test");
        // Queued before the worker starts, so they are waiting together when it takes its first run.
        var ja = await h.SubmitAsync(a, QueueHarness.Settings("a", steps: 30, batch: 2), null, Ct);
        var jb = await h.SubmitAsync(b, QueueHarness.Settings("b", steps: 30), null, Ct);
        var jc = await h.SubmitAsync(c, QueueHarness.Settings("c", steps: 30), null, Ct);
        var cancelled = 0;

        var finals = await RunAllAsync(h, [ja.Id, jb.Id, jc.Id], (id, update) =>
        {
            if (id == jb.Id && update.Step >= 3 && Interlocked.Exchange(ref cancelled, 1) == 0)
                _ = h.CancelAsync(b, jb.Id, Ct); // the one cancel path (REST DELETE, hub and page call it)
        });

        var run = Assert.Single(h.Generator.Runs);
        Assert.Equal(["a", "b", "c"], run.Select(r => r.Prompt));
        Assert.Equal(JobState.Cancelled, finals[jb.Id].State);
        Assert.Equal(JobState.Succeeded, finals[ja.Id].State);
        Assert.Equal(JobState.Succeeded, finals[jc.Id].State);
        Assert.Equal(2, finals[ja.Id].ImageIds.Count);
        Assert.Equal(4, finals[ja.Id].BatchSize);
        await using var db = h.Database.CreateDbContext();
        var rows = await db.GenerationJobs.AsNoTracking().ToDictionaryAsync(j => j.Id, Ct);
        Assert.Equal(JobState.Cancelled, rows[jb.Id].State);
        Assert.Null(rows[jb.Id].BatchSize);
        Assert.Equal(4, rows[ja.Id].BatchSize);
        Assert.Equal(4, rows[jc.Id].BatchSize);
        Assert.Equal(0, await db.GeneratedImages.CountAsync(i => i.JobId == jb.Id, Ct));
        Assert.Equal(2, await db.GeneratedImages.CountAsync(i => i.JobId == ja.Id, Ct));
        Assert.Equal(1, await db.GeneratedImages.CountAsync(i => i.JobId == jc.Id, Ct));
        Assert.Equal(1, (await db.UsageEntries.SingleAsync(u => u.JobId == jb.Id && u.Kind == UsageKind.Refund, Ct)).Images);
        Assert.Equal(2, (await db.UsageEntries.SingleAsync(u => u.JobId == ja.Id && u.Kind == UsageKind.Charge, Ct)).Images);
        var seen = await h.CreateQueries().GetAsync(c, jc.Id, Ct);
        Assert.Equal(4, seen!.BatchSize);
        Assert.Null((await h.CreateQueries().GetAsync(b, jb.Id, Ct))!.BatchSize);
        Assert.Equal(0, h.Queue.RunningCount);
    }

    [Fact]
    public async Task Worker_OneItemFailsPostProcessing_OnlyThatJobFails()
    {
        using var h = new QueueHarness();
        h.Generator.MaxImages = 4;
        h.Generator.FailPrompt = "broken";
        var a = await h.Database.AddUserAsync("a@x.test");
        var b = await h.Database.AddUserAsync("b@x.test");
        var good = await h.SubmitAsync(a, QueueHarness.Settings("fine"), null, Ct);
        var bad = await h.SubmitAsync(b, QueueHarness.Settings("broken"), null, Ct);

        var finals = await RunAllAsync(h, [good.Id, bad.Id]);

        Assert.Single(h.Generator.Runs);
        Assert.Equal(JobState.Succeeded, finals[good.Id].State);
        Assert.Equal(JobState.Failed, finals[bad.Id].State);
        Assert.Contains("post-processing failed", finals[bad.Id].Error);
        await using var db = h.Database.CreateDbContext();
        Assert.Equal(1, (await db.UsageEntries.SingleAsync(u => u.JobId == bad.Id && u.Kind == UsageKind.Refund, Ct)).Images);
    }

    [Fact]
    public async Task Worker_TwoDevices_EachEngineTakesRunsFromTheSameQueueAtTheSameTime()
    {
        using var h = new QueueHarness(new GenerationOptions { RunsInFlight = 1 });
        var gpu0 = new FakeImageGenerator { StepDelay = TimeSpan.FromMilliseconds(30) };
        var gpu1 = new FakeImageGenerator { StepDelay = TimeSpan.FromMilliseconds(30) };
        var a = await h.Database.AddUserAsync("a@x.test");
        var b = await h.Database.AddUserAsync("b@x.test");
        var ja = await h.SubmitAsync(a, QueueHarness.Settings("a", steps: 20), null, Ct);
        var jb = await h.SubmitAsync(b, QueueHarness.Settings("b", steps: 20), null, Ct);
        var bothRunning = 0;
        var finals = new Dictionary<Guid, TaskCompletionSource<JobUpdate>> { [ja.Id] = new(), [jb.Id] = new() };
        var subscriptions = finals.Keys.Select(id => h.Notifier.Subscribe(id, update =>
        {
            if (update.State == JobState.Running && h.Queue.RunningCount == 2) Interlocked.Exchange(ref bothRunning, 1);
            if (update.IsFinished) finals[id].TrySetResult(update);
            return Task.CompletedTask;
        })).ToList();
        using var worker = h.CreateWorker(new EngineDevices([DeviceEngine.For(0, gpu0), DeviceEngine.For(1, gpu1)]));
        await worker.StartAsync(Ct);
        await Task.WhenAll(finals.Values.Select(f => f.Task)).WaitAsync(TimeSpan.FromSeconds(60), Ct);
        await worker.StopAsync(Ct);
        subscriptions.ForEach(s => s.Dispose());

        // One job each (MaxImages 1): one run per device, at once.
        Assert.Single(gpu0.Runs);
        Assert.Single(gpu1.Runs);
        Assert.Equal(1, bothRunning);
        Assert.All(finals.Values, f => Assert.Equal(JobState.Succeeded, f.Task.Result.State));
    }

    [Fact]
    public async Task Worker_PreviewsDecodedOnlyForWatchedJobs_AndAtMostAboutTenPerSecond()
    {
        using var h = new QueueHarness();
        h.Generator.MaxImages = 2;
        h.Generator.StepDelay = TimeSpan.FromMilliseconds(20);
        var a = await h.Database.AddUserAsync("a@x.test");
        var b = await h.Database.AddUserAsync("b@x.test");
        var unwatched = await h.SubmitAsync(a, QueueHarness.Settings("unwatched", steps: 40), null, Ct);
        var watched = await h.SubmitAsync(b, QueueHarness.Settings("watched", steps: 40), null, Ct);
        var previews = 0;
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using var watching = h.Notifier.Subscribe(watched.Id, update =>
        {
            if (update.PreviewPng is not null) Interlocked.Increment(ref previews);
            if (update.IsFinished) done.TrySetResult();
            return Task.CompletedTask;
        });
        var clock = System.Diagnostics.Stopwatch.StartNew();
        using var worker = h.CreateWorker();
        await worker.StartAsync(Ct);
        await done.Task.WaitAsync(TimeSpan.FromSeconds(60), Ct);
        var seconds = clock.Elapsed.TotalSeconds;
        await worker.StopAsync(Ct);

        Assert.Single(h.Generator.Runs);
        Assert.Equal(0, h.Generator.PreviewsDecoded("unwatched"));
        var decoded = h.Generator.PreviewsDecoded("watched");
        // 40 steps of ≥ 20 ms: every step would be ≥ 40 previews; 10 per second plus the first and last step is the most.
        Assert.InRange(decoded, 2, Math.Min(39, (int)(seconds * 10) + 2));
        Assert.InRange(previews, 1, decoded);
        await using var db = h.Database.CreateDbContext();
        Assert.Equal(JobState.Succeeded, (await db.GenerationJobs.SingleAsync(j => j.Id == unwatched.Id, Ct)).State);
    }
}
