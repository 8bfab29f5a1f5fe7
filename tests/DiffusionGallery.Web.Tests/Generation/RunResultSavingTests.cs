using DiffusionGallery.Web.Data.Entities;
using DiffusionGallery.Web.Generation;
using DiffusionGallery.Web.Tests.Support;
using DiffusionGallery.Inference.Abstractions;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Diagnostics;
using Microsoft.Extensions.Logging.Abstractions;

namespace DiffusionGallery.Web.Tests.Generation;

/// <summary>
/// How a shared run's results are stored (<see cref="RunResultWriter"/>): all jobs in one transaction after all their
/// files, each job still ending on its own (cancelled, discarded or failed alone), and REST's long poll
/// (<see cref="JobQueries.WaitAsync"/>) woken by the finishing update.
/// </summary>
public sealed class RunResultSavingTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static Task<Dictionary<Guid, JobUpdate>> RunUntilFinishedAsync(QueueHarness h, params Guid[] jobIds) => h.RunUntilFinishedAsync(jobIds, null, Ct);

    private static async Task<(QueueHarness H, string A, string B, string C, GenerationJob Ja, GenerationJob Jb, GenerationJob Jc)> ThreeUsersAsync(
        string promptB = "b", int batchA = 2, int batchB = 1)
    {
        var h = new QueueHarness();
        h.Generator.MaxImages = 8;
        var a = await h.Database.AddUserAsync("a@x.test");
        var b = await h.Database.AddUserAsync("b@x.test");
        var c = await h.Database.AddUserAsync("c@x.test");
        // Queued before the worker starts, so they share its first run.
        var ja = await h.SubmitAsync(a, QueueHarness.Settings("a", batch: batchA), null, Ct);
        var jb = await h.SubmitAsync(b, QueueHarness.Settings(promptB, batch: batchB), null, Ct);
        var jc = await h.SubmitAsync(c, QueueHarness.Settings("c"), null, Ct);
        return (h, a, b, c, ja, jb, jc);
    }

    private static int FilesOnDisk(QueueHarness h) => Directory.Exists(h.Store.RootPath)
        ? Directory.EnumerateFiles(h.Store.RootPath, "*", SearchOption.AllDirectories).Count()
        : 0;

    [Fact]
    public async Task SharedRun_IsCommittedTogether_OneFinishTime_EachOwnersVisibility_ChargesByShare()
    {
        var (h, _, b, _, ja, jb, jc) = await ThreeUsersAsync();
        using var owned = h;
        await using (var setup = h.Database.CreateDbContext())
        {
            (await setup.Users.SingleAsync(u => u.Id == b, Ct)).DefaultVisibility = ImageVisibility.Public;
            await setup.SaveChangesAsync(Ct);
        }

        var finals = await RunUntilFinishedAsync(h, ja.Id, jb.Id, jc.Id);

        Assert.Single(h.Generator.Runs);
        Assert.All(finals.Values, f => Assert.Equal(JobState.Succeeded, f.State));
        Assert.All(finals.Values, f => Assert.Equal(4, f.BatchSize));
        await using var db = h.Database.CreateDbContext();
        var rows = await db.GenerationJobs.AsNoTracking().ToListAsync(Ct);
        // One transaction: one FinishedAt for the run's jobs, one StartedAt (the run went to the engine), before it.
        var finished = Assert.Single(rows.Select(r => r.FinishedAt).Distinct());
        var started = Assert.Single(rows.Select(r => r.StartedAt).Distinct());
        Assert.NotNull(finished);
        Assert.True(started < finished);
        Assert.All(finals.Values, f => Assert.Equal((started, finished), (f.StartedAt, f.FinishedAt))); // the finishing update says so too
        var images = await db.GeneratedImages.AsNoTracking().ToListAsync(Ct);
        Assert.Equal(4, images.Count);
        Assert.All(images, i => Assert.Equal(finished, i.CreatedAt));
        Assert.Equal(4 * 2, FilesOnDisk(h)); // PNG + thumbnail each
        Assert.All(images.Where(i => i.OwnerId == b), i => Assert.Equal(ImageVisibility.Public, i.Visibility));
        Assert.All(images.Where(i => i.OwnerId == b), i => Assert.NotNull(i.ShareToken));
        Assert.All(images.Where(i => i.OwnerId != b), i => Assert.Equal(ImageVisibility.Private, i.Visibility));
        Assert.Equal([42L, 43L], images.Where(i => i.JobId == ja.Id).Select(i => i.Seed).Order());
        var charges = await db.UsageEntries.AsNoTracking().Where(u => u.Kind == UsageKind.Charge).ToDictionaryAsync(u => u.JobId, Ct);
        Assert.Equal(2, charges[ja.Id].Images);
        Assert.Equal(1, charges[jc.Id].Images);
        Assert.Equal(2 * charges[jc.Id].GpuSeconds, charges[ja.Id].GpuSeconds, 6); // its share of the run: 2 of 4 images against 1 of 4 (each rounded to 100 ns ticks)
        Assert.Equal(3, await db.UsageEntries.CountAsync(u => u.Kind == UsageKind.Refund, Ct)); // each reservation's estimate comes back
    }

    [Fact]
    public async Task JobCancelledBetweenEngineAndSave_IsCancelledAndRefunded_TheOthersOfTheRunSucceed()
    {
        var (h, _, b, _, ja, jb, jc) = await ThreeUsersAsync();
        using var owned = h;
        var resultCameBack = false;
        h.Generator.AfterRun = async items =>
        {
            resultCameBack = true; // every item has its images by now; b's owner cancels before they are saved
            await h.CancelAsync(b, jb.Id, Ct);
        };

        var finals = await RunUntilFinishedAsync(h, ja.Id, jb.Id, jc.Id);

        Assert.True(resultCameBack);
        Assert.Equal(JobState.Cancelled, finals[jb.Id].State);
        Assert.Equal(JobState.Succeeded, finals[ja.Id].State);
        Assert.Equal(JobState.Succeeded, finals[jc.Id].State);
        await using var db = h.Database.CreateDbContext();
        var rows = await db.GenerationJobs.AsNoTracking().ToDictionaryAsync(j => j.Id, Ct);
        Assert.Equal(JobState.Cancelled, rows[jb.Id].State);
        Assert.Null(rows[jb.Id].BatchSize);
        Assert.Equal(rows[ja.Id].FinishedAt, rows[jb.Id].FinishedAt); // settled in the same transaction
        Assert.False(await db.GeneratedImages.AnyAsync(i => i.JobId == jb.Id, Ct));
        Assert.Equal(3, await db.GeneratedImages.CountAsync(Ct));
        Assert.Equal(3 * 2, FilesOnDisk(h)); // b's were never written
        Assert.Equal(1, (await db.UsageEntries.SingleAsync(u => u.JobId == jb.Id && u.Kind == UsageKind.Refund, Ct)).Images);
        Assert.Equal(0, h.Queue.RunningCount);
    }

    [Fact]
    public async Task JobNoLongerRunningWhenSaved_IsDiscardedAlone_ItsFilesDeleted_TheOthersSucceed()
    {
        var (h, _, _, _, ja, jb, jc) = await ThreeUsersAsync(batchB: 2);
        using var owned = h;
        h.Generator.AfterRun = async _ =>
        {
            // Someone else finished b's row meanwhile (e.g. another process): the worker must not store its results.
            await using var other = h.Database.CreateDbContext();
            await other.GenerationJobs.Where(j => j.Id == jb.Id)
                .ExecuteUpdateAsync(s => s.SetProperty(j => j.State, JobState.Failed).SetProperty(j => j.Error, "finished elsewhere"), Ct);
        };

        var finals = await RunUntilFinishedAsync(h, ja.Id, jc.Id);

        Assert.Equal(JobState.Succeeded, finals[ja.Id].State);
        Assert.Equal(JobState.Succeeded, finals[jc.Id].State);
        await using var db = h.Database.CreateDbContext();
        var row = await db.GenerationJobs.AsNoTracking().SingleAsync(j => j.Id == jb.Id, Ct);
        Assert.Equal(JobState.Failed, row.State);
        Assert.Equal("finished elsewhere", row.Error);
        Assert.Null(row.BatchSize);
        Assert.False(await db.GeneratedImages.AnyAsync(i => i.JobId == jb.Id, Ct));
        Assert.Equal(3, await db.GeneratedImages.CountAsync(Ct));
        Assert.Equal(3 * 2, FilesOnDisk(h)); // b's two images were written, then deleted
        // Whoever finished it did not settle it here: the worker gives the reservation back (once; never charged).
        Assert.Equal([UsageKind.Reservation, UsageKind.Refund], (await db.UsageEntries.Where(u => u.JobId == jb.Id).Select(u => u.Kind).ToListAsync(Ct)).Order());
    }

    [Fact]
    public async Task StoringOneJobsFilesFails_OnlyThatJobFailsAndIsRefunded_TheOthersSucceed()
    {
        var (h, _, _, _, ja, jb, jc) = await ThreeUsersAsync(promptB: "corrupt", batchB: 2);
        using var owned = h;
        h.Generator.CorruptPngPrompt = "corrupt";

        var finals = await RunUntilFinishedAsync(h, ja.Id, jb.Id, jc.Id);

        Assert.Single(h.Generator.Runs);
        Assert.Equal(JobState.Failed, finals[jb.Id].State);
        Assert.Contains("Storing the images failed", finals[jb.Id].Error);
        Assert.Equal(JobState.Succeeded, finals[ja.Id].State);
        Assert.Equal(JobState.Succeeded, finals[jc.Id].State);
        await using var db = h.Database.CreateDbContext();
        var rows = await db.GenerationJobs.AsNoTracking().ToDictionaryAsync(j => j.Id, Ct);
        Assert.Equal(JobState.Failed, rows[jb.Id].State);
        Assert.Contains("Storing the images failed", rows[jb.Id].Error);
        Assert.Equal(rows[ja.Id].FinishedAt, rows[jb.Id].FinishedAt);
        Assert.False(await db.GeneratedImages.AnyAsync(i => i.JobId == jb.Id, Ct));
        Assert.Equal(3 * 2, FilesOnDisk(h)); // nothing of b's is left
        Assert.Equal(2, (await db.UsageEntries.SingleAsync(u => u.JobId == jb.Id && u.Kind == UsageKind.Refund, Ct)).Images);
        Assert.Equal(2, (await db.UsageEntries.SingleAsync(u => u.JobId == ja.Id && u.Kind == UsageKind.Charge, Ct)).Images);
    }

    [Fact]
    public async Task WaitAsync_ReturnsAsSoonAsTheJobFinishes_WithoutWatchingIt()
    {
        using var h = new QueueHarness();
        h.Generator.StepDelay = TimeSpan.FromMilliseconds(20);
        var a = await h.Database.AddUserAsync("a@x.test");
        var job = await h.SubmitAsync(a, QueueHarness.Settings("waited", steps: 10), null, Ct);
        var queries = h.CreateQueries();
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var waiting = queries.WaitAsync(a, job.Id, TimeSpan.FromSeconds(30), Ct);
        Assert.False(waiting.IsCompleted);
        using var worker = h.CreateWorker();
        await worker.StartAsync(Ct);

        var seen = await waiting.WaitAsync(TimeSpan.FromSeconds(20), Ct);
        await worker.StopAsync(Ct);

        Assert.Equal(JobState.Succeeded, seen!.State);
        Assert.Single(seen.ImageIds);
        Assert.NotNull(seen.StartedAt);
        Assert.True(seen.FinishedAt >= seen.StartedAt);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(20));
        Assert.Equal(0, h.Generator.PreviewsDecoded("waited")); // a long poll is no watcher: no previews made for it
        Assert.Equal(0, h.Notifier.FinishWaiterCount(job.Id));
    }

    [Fact]
    public async Task WaitAsync_TimesOut_WithTheRunningState_AndUnregisters()
    {
        using var h = new QueueHarness();
        h.Generator.StepDelay = TimeSpan.FromMilliseconds(50);
        var a = await h.Database.AddUserAsync("a@x.test");
        var job = await h.SubmitAsync(a, QueueHarness.Settings(steps: 100), null, Ct);
        var running = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using var watch = h.Notifier.Subscribe(job.Id, update =>
        {
            if (update.State == JobState.Running) running.TrySetResult();
            return Task.CompletedTask;
        });
        using var worker = h.CreateWorker();
        await worker.StartAsync(Ct);
        await running.Task.WaitAsync(TimeSpan.FromSeconds(20), Ct);
        var queries = h.CreateQueries();

        var clock = System.Diagnostics.Stopwatch.StartNew();
        var seen = await queries.WaitAsync(a, job.Id, TimeSpan.FromMilliseconds(300), Ct);
        var waited = clock.Elapsed;
        clock.Restart();
        var other = await queries.WaitAsync("someone-else", job.Id, TimeSpan.FromSeconds(5), Ct);
        var otherTook = clock.Elapsed;
        await h.CancelAsync(a, job.Id, Ct);
        var cancelled = await queries.WaitAsync(a, job.Id, TimeSpan.FromSeconds(30), Ct);
        await worker.StopAsync(Ct);

        Assert.Equal(JobState.Running, seen!.State);
        Assert.True(waited >= TimeSpan.FromMilliseconds(290), $"waited {waited}");
        Assert.Null(other); // not the owner's: at once, no wait (the job itself has seconds of steps left)
        Assert.True(otherTook < TimeSpan.FromSeconds(1), $"took {otherTook}");
        Assert.Equal(JobState.Cancelled, cancelled!.State);
        Assert.Equal(0, h.Notifier.FinishWaiterCount(job.Id));
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => queries.WaitAsync(a, job.Id, TimeSpan.FromSeconds(31), Ct));
    }

    [Fact]
    public async Task WaitAsync_EndsAtOnce_WhenTheAppStops()
    {
        using var h = new QueueHarness();
        var a = await h.Database.AddUserAsync("a@x.test");
        var job = await h.SubmitAsync(a, QueueHarness.Settings(), null, Ct); // no worker: it stays queued
        var waiting = h.CreateQueries().WaitAsync(a, job.Id, TimeSpan.FromSeconds(30), Ct);
        await Task.Delay(100, Ct);
        Assert.False(waiting.IsCompleted);

        h.Lifetime.StopApplication();
        var seen = await waiting.WaitAsync(TimeSpan.FromSeconds(5), Ct);

        Assert.Equal(JobState.Queued, seen!.State); // as it stands, not an error
        Assert.Equal(0, h.Notifier.FinishWaiterCount(job.Id));
    }

    /// <summary>Jobs of one user, submitted and then marked Running as the worker's claim does (real rows and reservations).</summary>
    private static async Task<List<GenerationJob>> RunningJobsAsync(QueueHarness h, params string[] prompts)
    {
        var a = await h.Database.AddUserAsync("a@x.test");
        var ids = new List<Guid>();
        foreach (var prompt in prompts) ids.Add((await h.SubmitAsync(a, QueueHarness.Settings(prompt), null, Ct)).Id);
        await using var db = h.Database.CreateDbContext();
        await db.GenerationJobs.Where(j => ids.Contains(j.Id)).ExecuteUpdateAsync(s => s.SetProperty(j => j.State, JobState.Running), Ct);
        var jobs = await db.GenerationJobs.AsNoTracking().Where(j => ids.Contains(j.Id)).ToDictionaryAsync(j => j.Id, Ct);
        return ids.Select(id => jobs[id]).ToList();
    }

    private static JobEnding Success(GenerationJob job) => JobEnding.Succeeded(job,
        new GenerationResult([new GenerationOutput(42, 128, 128, FakeImageGenerator.Png(128, 128), job.Settings.Prompt)], "tiny-shapes", "abc123", "CPU", "fake",
            new Dictionary<string, TimeSpan>()), 2, TimeSpan.FromSeconds(1), DateTimeOffset.UtcNow);

    private static RunResultWriter Writer(QueueHarness h) => new(h.Store, h.Notifier, h.Time, NullLogger.Instance);

    [Fact]
    public async Task ShutdownWhileStoring_TheCancelledJobIsStillCommitted_TheSuccessStaysRunningWithoutFiles()
    {
        using var h = new QueueHarness();
        var jobs = await RunningJobsAsync(h, "stored", "cancelled by its owner");
        using var stopping = new CancellationTokenSource();
        await stopping.CancelAsync();
        await using var db = h.Database.CreateDbContext();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() =>
            Writer(h).FinishAsync(db, [Success(jobs[0]), JobEnding.Cancelled(jobs[1], TimeSpan.FromSeconds(1), "CPU")], stopping.Token));

        var rows = await db.GenerationJobs.AsNoTracking().ToDictionaryAsync(j => j.Id, Ct);
        Assert.Equal(JobState.Running, rows[jobs[0].Id].State); // requeued at start-up
        Assert.Equal(JobState.Cancelled, rows[jobs[1].Id].State); // not run again
        Assert.True(await db.UsageEntries.AnyAsync(u => u.JobId == jobs[1].Id && u.Kind == UsageKind.Refund, Ct));
        Assert.Equal(0, FilesOnDisk(h));
    }

    [Fact]
    public async Task SharedCommitFails_EachJobIsCommittedAlone_OneThatStillFailsIsRecordedAsASavingFailure()
    {
        using var h = new QueueHarness();
        var jobs = await RunningJobsAsync(h, "first", "second");
        var failing = new FailingSaves(2); // the shared save, then the first job's own
        await using var db = h.Database.CreateDbContext(failing);

        var succeeded = await Writer(h).FinishAsync(db, [Success(jobs[0]), Success(jobs[1])], Ct);

        Assert.Equal([jobs[1].Id], succeeded);
        Assert.Equal(4, failing.Calls); // shared, first alone, first as a failure, second alone
        var rows = await db.GenerationJobs.AsNoTracking().ToDictionaryAsync(j => j.Id, Ct);
        Assert.Equal(JobState.Failed, rows[jobs[0].Id].State);
        Assert.StartsWith("Saving the results failed: ", rows[jobs[0].Id].Error);
        Assert.Equal(JobState.Succeeded, rows[jobs[1].Id].State);
        Assert.Equal(jobs[1].Id, (await db.GeneratedImages.SingleAsync(Ct)).JobId);
        Assert.Equal(2, FilesOnDisk(h)); // the first job's files were deleted
    }

    private sealed class FailingSaves(int failures) : SaveChangesInterceptor
    {
        public int Calls;

        public override ValueTask<InterceptionResult<int>> SavingChangesAsync(DbContextEventData eventData, InterceptionResult<int> result,
            CancellationToken cancellationToken = default) =>
            Interlocked.Increment(ref Calls) <= failures ? throw new DbUpdateException("injected") : base.SavingChangesAsync(eventData, result, cancellationToken);
    }
}
