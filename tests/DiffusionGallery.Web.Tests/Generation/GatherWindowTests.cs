using System.Diagnostics;
using DiffusionGallery.Web.Data.Entities;
using DiffusionGallery.Web.Generation;
using DiffusionGallery.Web.Options;
using DiffusionGallery.Web.Tests.Support;

namespace DiffusionGallery.Web.Tests.Generation;

/// <summary>
/// Generation:GatherWindowMs: a run with room waits briefly for the next jobs of users whose images just arrived, so
/// people (and programs) who ask again as soon as an image arrives share one run instead of splitting into two.
/// Real clock: the window is real time.
/// </summary>
public sealed class GatherWindowTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    /// <summary>A harness whose fake engine shares runs of up to 8 images, and users a and b with one job queued each (a0, b0).</summary>
    private static async Task<(QueueHarness H, string A, string B, GenerationJob A0, GenerationJob B0)> TwoUsersQueuedAsync(GenerationOptions options)
    {
        var h = new QueueHarness(options);
        h.Generator.MaxImages = 8;
        var a = await h.Database.AddUserAsync("a@x.test");
        var b = await h.Database.AddUserAsync("b@x.test");
        var a0 = await h.SubmitAsync(a, QueueHarness.Settings("a0"), null, Ct);
        var b0 = await h.SubmitAsync(b, QueueHarness.Settings("b0"), null, Ct);
        return (h, a, b, a0, b0);
    }

    /// <summary><see cref="TwoUsersQueuedAsync"/> after a0 and b0 ran together and ended.</summary>
    private static async Task<(QueueHarness H, string A, string B)> TwoUsersJustServedAsync(int windowMs)
    {
        var (h, a, b, _, _) = await TwoUsersQueuedAsync(new GenerationOptions { GatherWindowMs = windowMs });
        var first = await h.Queue.DequeueRunAsync(Ct);
        Assert.Equal(2, first.Jobs.Count);
        foreach (var job in first.Jobs) h.Queue.Complete(job, succeeded: true);
        return (h, a, b);
    }

    [Fact]
    public async Task UserJustServed_ComesBackWithinTheWindow_SharesTheRun_AndTheWaitEndsAtOnce()
    {
        var (h, a, b) = await TwoUsersJustServedAsync(windowMs: 5_000);
        using var _ = h;
        var a1 = await h.SubmitAsync(a, QueueHarness.Settings("a1"), null, Ct);
        var clock = Stopwatch.StartNew();

        var taking = h.Queue.DequeueRunAsync(Ct);
        await Task.Delay(100, Ct);
        Assert.False(taking.IsCompleted); // b, served a moment ago, is expected back
        var b1 = await h.SubmitAsync(b, QueueHarness.Settings("b1"), null, Ct);
        var run = await taking;

        Assert.Equal([a1.Id, b1.Id], run.Jobs.Select(j => j.JobId));
        Assert.All(run.Jobs, j => Assert.Equal(0.5, j.Share));
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(4), $"waited {clock.Elapsed} although nobody more was expected");
        Assert.True(run.Gathered >= TimeSpan.FromMilliseconds(90), $"gathered for {run.Gathered}");
    }

    [Fact]
    public async Task ExpectedUserDoesNotComeBack_TheRunStartsWhenTheWindowEnds()
    {
        var (h, a, _) = await TwoUsersJustServedAsync(windowMs: 300);
        using var _h = h;
        var a1 = await h.SubmitAsync(a, QueueHarness.Settings("a1"), null, Ct);

        var run = await h.Queue.DequeueRunAsync(Ct);

        Assert.Equal([a1.Id], run.Jobs.Select(j => j.JobId));
        Assert.InRange(run.Gathered, TimeSpan.FromMilliseconds(250), TimeSpan.FromSeconds(5));
    }

    [Fact]
    public async Task ExpectedUserSubmitsSomethingIncompatible_StopsTheWait_AndThatJobWaitsForItsOwnRun()
    {
        var (h, a, b) = await TwoUsersJustServedAsync(windowMs: 5_000);
        using var _ = h;
        var a1 = await h.SubmitAsync(a, QueueHarness.Settings("a1"), null, Ct);

        var taking = h.Queue.DequeueRunAsync(Ct);
        await Task.Delay(100, Ct);
        var other = await h.SubmitAsync(b, QueueHarness.Settings("b1", steps: 9), null, Ct); // another step count: another key
        var run = await taking;

        Assert.Equal([a1.Id], run.Jobs.Select(j => j.JobId));
        Assert.True(run.Gathered < TimeSpan.FromSeconds(4), $"gathered for {run.Gathered}");
        var next = await h.Queue.DequeueRunAsync(Ct);
        Assert.Equal([other.Id], next.Jobs.Select(j => j.JobId));
    }

    [Fact]
    public async Task NobodyElseServedRecently_NoWait()
    {
        using var h = new QueueHarness(new GenerationOptions { GatherWindowMs = 5_000 });
        h.Generator.MaxImages = 8;
        var a = await h.Database.AddUserAsync("a@x.test");
        var a0 = await h.SubmitAsync(a, QueueHarness.Settings("a0"), null, Ct);
        foreach (var job in (await h.Queue.DequeueRunAsync(Ct)).Jobs) h.Queue.Complete(job, succeeded: true);
        var a1 = await h.SubmitAsync(a, QueueHarness.Settings("a1"), null, Ct); // one user asking again: nobody to wait for

        var run = await h.Queue.DequeueRunAsync(Ct);

        Assert.Equal([a1.Id], run.Jobs.Select(j => j.JobId));
        Assert.True(run.Gathered < TimeSpan.FromSeconds(2), $"gathered for {run.Gathered}");
        Assert.NotEqual(a0.Id, a1.Id);
    }

    [Fact]
    public async Task UserStillRunning_IsNotWaitedFor()
    {
        var (h, a, _, _, _) = await TwoUsersQueuedAsync(new GenerationOptions { GatherWindowMs = 5_000 });
        using var _h = h;
        var first = await h.Queue.DequeueRunAsync(Ct);
        h.Queue.Complete(first.Jobs.Single(j => j.OwnerId == a), succeeded: true); // b's job is still being saved
        var a1 = await h.SubmitAsync(a, QueueHarness.Settings("a1"), null, Ct);

        var run = await h.Queue.DequeueRunAsync(Ct);

        Assert.Equal([a1.Id], run.Jobs.Select(j => j.JobId));
        Assert.True(run.Gathered < TimeSpan.FromSeconds(2), $"gathered for {run.Gathered}");
    }

    [Theory]
    [InlineData(0, 0)]     // window off
    [InlineData(5_000, 1)] // sharing off: nothing to gather for
    public async Task WindowOffOrSharingOff_NoWait(int windowMs, int maxImagesPerRun)
    {
        var (h, a, _, _, _) = await TwoUsersQueuedAsync(new GenerationOptions { GatherWindowMs = windowMs, MaxImagesPerRun = maxImagesPerRun });
        using var _h = h;
        while (h.Queue.QueuedCount > 0)
            foreach (var job in (await h.Queue.DequeueRunAsync(Ct)).Jobs) h.Queue.Complete(job, succeeded: true);
        var a1 = await h.SubmitAsync(a, QueueHarness.Settings("a1"), null, Ct);

        var run = await h.Queue.DequeueRunAsync(Ct);

        Assert.Equal([a1.Id], run.Jobs.Select(j => j.JobId));
        Assert.True(run.Gathered < TimeSpan.FromSeconds(2), $"gathered for {run.Gathered}");
    }

    [Fact]
    public async Task ShuttingDownWhileGathering_Throws()
    {
        var (h, a, _) = await TwoUsersJustServedAsync(windowMs: 5_000);
        using var _h = h;
        await h.SubmitAsync(a, QueueHarness.Settings("a1"), null, Ct);
        using var stopping = CancellationTokenSource.CreateLinkedTokenSource(Ct);

        var taking = h.Queue.DequeueRunAsync(stopping.Token);
        await Task.Delay(100, Ct);
        await stopping.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => taking);
    }

    [Theory]
    [InlineData(5_000, 2)] // gathered: the second jobs share a run
    [InlineData(0, 1)]     // no window: the first to ask again runs alone
    public async Task ThroughTheWorker_UsersWhoAskAgainWhenTheirImageArrives_ShareTheNextRun(int windowMs, int expectedBatch)
    {
        var (h, a, b, a0, b0) = await TwoUsersQueuedAsync(new GenerationOptions { GatherWindowMs = windowMs });
        using var _h = h;
        var seconds = new List<Task<GenerationJob>>();
        var endedBeforeTold = new List<bool>();
        // a asks again as soon as its image arrives, b 200 ms later
        IDisposable AskAgain(Guid first, string owner, string prompt, int delayMs) => h.Notifier.Subscribe(first, async update =>
        {
            if (!update.IsFinished) return;
            lock (seconds) endedBeforeTold.Add(!h.Queue.IsRunning(first));
            await Task.Delay(delayMs, Ct);
            lock (seconds) seconds.Add(h.SubmitAsync(owner, QueueHarness.Settings(prompt), null, Ct));
        });
        using var askA = AskAgain(a0.Id, a, "a1", 0);
        using var askB = AskAgain(b0.Id, b, "b1", 200);
        using var worker = h.CreateWorker();
        await worker.StartAsync(Ct);

        var finished = await WaitForJobsAsync(h, 4);
        await worker.StopAsync(Ct);

        Assert.Equal([true, true], endedBeforeTold); // the queue ended each job before its owner was told
        Assert.Equal([2, 2], finished.Where(j => j.Id == a0.Id || j.Id == b0.Id).Select(j => j.BatchSize));
        var again = finished.Where(j => j.Id != a0.Id && j.Id != b0.Id).ToList();
        Assert.Equal(2, again.Count);
        Assert.All(again, j => Assert.Equal(expectedBatch, j.BatchSize));
    }

    /// <summary>Waits (at most 30 s) until <paramref name="count"/> jobs have succeeded; returns them.</summary>
    private static async Task<List<GenerationJob>> WaitForJobsAsync(QueueHarness h, int count)
    {
        var clock = Stopwatch.StartNew();
        while (true)
        {
            await using var db = h.Database.CreateDbContext();
            var done = db.GenerationJobs.Where(j => j.State == JobState.Succeeded).ToList();
            if (done.Count >= count) return done;
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(30), $"{done.Count} of {count} jobs finished in 30 s");
            await Task.Delay(50, Ct);
        }
    }
}
