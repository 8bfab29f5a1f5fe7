using DiffusionGallery.Inference.Abstractions;
using DiffusionGallery.Web.Data.Entities;
using DiffusionGallery.Web.Errors;
using DiffusionGallery.Web.Generation;
using DiffusionGallery.Web.Options;
using DiffusionGallery.Web.Tests.Support;
using Microsoft.EntityFrameworkCore;

namespace DiffusionGallery.Web.Tests.Generation;

public sealed class GenerationQueueTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task TakeJoiners_TakesFromTheFrontOnly_WithinRoom_PassingOverUsersAtTheirLimit()
    {
        using var h = new QueueHarness(new GenerationOptions { MaxQueuedJobsPerUser = 5 });
        var (a, b, c, d) = (await h.Database.AddUserAsync("a@x.test"), await h.Database.AddUserAsync("b@x.test"),
            await h.Database.AddUserAsync("c@x.test"), await h.Database.AddUserAsync("d@x.test"));
        var head = await h.DequeueAfterSubmitAsync(a, QueueHarness.Settings("a0"));
        var key = h.Generator.KeyOf(h.RequestFactory.ToEngineRequest(QueueHarness.Settings()));
        var a1 = await h.SubmitAsync(a, QueueHarness.Settings("a1"), null, Ct); // a already runs one job: at a limit of 1 it waits
        var b1 = await h.SubmitAsync(b, QueueHarness.Settings("b1", batch: 2), null, Ct);
        var c1 = await h.SubmitAsync(c, QueueHarness.Settings("c1"), null, Ct);
        var d1 = await h.SubmitAsync(d, QueueHarness.Settings("d1", steps: 9), null, Ct); // another key
        var c2 = await h.SubmitAsync(c, QueueHarness.Settings("c2"), null, Ct); // behind d1: never passes it

        Assert.Empty(h.Queue.TakeJoiners(key, room: 1, maxRunningPerUser: 1)); // b1 (2 images) is next after a1 and does not fit
        var taken = h.Queue.TakeJoiners(key, room: 8, maxRunningPerUser: 1);

        Assert.Equal([b1.Id, c1.Id], taken.Select(j => j.JobId)); // a1 passed over (a at its limit), stopped at d1
        Assert.All(taken, j => Assert.True(h.Queue.IsRunning(j.JobId)));
        Assert.Equal([a1.Id, d1.Id, c2.Id], new[] { a1, d1, c2 }.Where(j => h.Queue.GetPosition(j.Id) is not null).Select(j => j.Id));
        // a's first job ends: a has used the GPU and d has not, so d1 (another key) is at the front now and nothing passes it
        h.Queue.Complete(head);
        Assert.Empty(h.Queue.TakeJoiners(key, room: 8, maxRunningPerUser: 1));
        Assert.Equal(1, h.Queue.GetPosition(d1.Id));
    }

    [Fact]
    public async Task Submit_ReportsThePositionTheJobWasQueuedAt_OneWhenFirst_EvenOnceAWorkerHasTakenIt()
    {
        using var h = new QueueHarness(new GenerationOptions { MaxQueuedJobsPerUser = 5 });
        var a = await h.Database.AddUserAsync("a@x.test");
        var submissions = h.Submissions(new TestUser(a));

        var first = await submissions.SubmitWithPositionAsync(new SubmitCommand(QueueHarness.Settings("a1")), Ct);
        Assert.Equal((JobState.Queued, 1), (first.Job.State, first.QueuePosition));
        var run = await h.Queue.DequeueRunAsync(Ct); // an idle worker takes it at once ...
        Assert.Equal(first.Job.Id, Assert.Single(run.Jobs).JobId);
        Assert.Null(h.Queue.GetPosition(first.Job.Id)); // ... so asking the queue after submitting found nothing (the defect)

        var second = await submissions.SubmitWithPositionAsync(new SubmitCommand(QueueHarness.Settings("a2", steps: 9)), Ct);
        var third = await submissions.SubmitWithPositionAsync(new SubmitCommand(QueueHarness.Settings("a3", steps: 9)), Ct);
        Assert.Equal((1, 2), (second.QueuePosition, third.QueuePosition));
        Assert.Equal((1, 2), (h.Queue.GetPosition(second.Job.Id), h.Queue.GetPosition(third.Job.Id)));

        // Its row still says Queued (the worker has not stored the start yet): asking for the job tells it is running,
        // not "queued at no position"; the waiting ones are queued at theirs.
        var queries = h.CreateQueries();
        var taken = await queries.GetAsync(a, first.Job.Id, Ct);
        Assert.Equal((JobState.Running, (int?)null), (taken!.State, taken.QueuePosition));
        var waiting = await queries.GetAsync(a, third.Job.Id, Ct);
        Assert.Equal((JobState.Queued, (int?)2), (waiting!.State, waiting.QueuePosition));
    }

    [Fact]
    public async Task Dequeue_JobsOfSeveralUsers_TakeTurnsByFairShare()
    {
        using var h = new QueueHarness();
        var a = await h.Database.AddUserAsync("a@x.test");
        var b = await h.Database.AddUserAsync("b@x.test");
        var c = await h.Database.AddUserAsync("c@x.test");
        var a1 = await h.SubmitAsync(a, QueueHarness.Settings("a1"), null, Ct);
        var a2 = await h.SubmitAsync(a, QueueHarness.Settings("a2"), null, Ct);
        var b1 = await h.SubmitAsync(b, QueueHarness.Settings("b1"), null, Ct);
        var c1 = await h.SubmitAsync(c, QueueHarness.Settings("c1"), null, Ct);

        Assert.Equal(4, h.Queue.GetPosition(a2.Id));
        Assert.Equal(2, h.Queue.GetPosition(b1.Id));

        var order = new List<Guid>();
        for (var i = 0; i < 4; i++)
        {
            var running = await h.DequeueOneAsync(Ct);
            order.Add(running.JobId);
            h.Queue.Complete(running);
        }
        Assert.Equal([a1.Id, b1.Id, c1.Id, a2.Id], order);
    }

    [Fact]
    public async Task FairShare_AQueues20ThenBQueues2_WithTheWorkerPaused_BsFirstJobRunsNoLaterThanSecond()
    {
        using var h = new QueueHarness(new GenerationOptions { MaxQueuedJobsPerUser = 50 });
        var a = await h.Database.AddUserAsync("a@x.test");
        var b = await h.Database.AddUserAsync("b@x.test");
        var aJobs = new List<Guid>();
        for (var i = 0; i < 20; i++) aJobs.Add((await h.SubmitAsync(a, QueueHarness.Settings(seed: i), null, Ct)).Id);
        var b1 = await h.SubmitAsync(b, QueueHarness.Settings("b1"), null, Ct);
        var b2 = await h.SubmitAsync(b, QueueHarness.Settings("b2"), null, Ct);
        Assert.InRange(h.Queue.GetPosition(b1.Id)!.Value, 1, 2); // shown before anything ran

        var order = new List<Guid>();
        for (var i = 0; i < 22; i++)
        {
            var running = await h.DequeueOneAsync(Ct);
            order.Add(running.JobId);
            h.Queue.Complete(running, succeeded: true);
        }
        Assert.InRange(order.IndexOf(b1.Id), 0, 1);
        Assert.InRange(order.IndexOf(b2.Id), 2, 4); // B keeps alternating with A, not waiting behind A's 20
    }

    [Fact]
    public async Task FairShare_Weight2Vs1_GivesA2To1ShareOfGpuSecondsOverALongRun()
    {
        var time = new DiffusionGallery.Web.Tests.Admin.FixedTime(new DateTimeOffset(2026, 12, 6, 10, 0, 0, TimeSpan.Zero));
        // No worker here: rows stay Queued in the database, so the per-user cap must allow the whole run.
        using var h = new QueueHarness(new GenerationOptions { MaxQueuedJobsPerUser = 1000, MaxQueueLength = 1000 }, time: time);
        var a = await h.Database.AddUserAsync("a@x.test");
        var b = await h.Database.AddUserAsync("b@x.test");
        await using (var db = h.Database.CreateDbContext())
        {
            db.QuotaPolicies.Add(new QuotaPolicy { UserId = a, Weight = 2, UpdatedAt = time.Now });
            await db.SaveChangesAsync(Ct);
        }
        for (var i = 0; i < 5; i++)
        {
            await h.SubmitAsync(a, QueueHarness.Settings(seed: i), null, Ct);
            await h.SubmitAsync(b, QueueHarness.Settings(seed: i), null, Ct);
        }
        var random = new Random(7);
        var gpu = new Dictionary<string, double> { [a] = 0, [b] = 0 };
        for (var run = 0; run < 300; run++)
        {
            var running = await h.DequeueOneAsync(Ct);
            var seconds = 0.5 + random.NextDouble(); // what the job really took
            time.Now += TimeSpan.FromSeconds(seconds);
            h.Queue.Complete(running, succeeded: true);
            gpu[running.OwnerId] += seconds;
            await h.SubmitAsync(running.OwnerId, QueueHarness.Settings(seed: run), null, Ct); // both stay busy
        }
        var share = gpu[a] / gpu[b];
        TestContext.Current.TestOutputHelper?.WriteLine($"GPU-seconds A {gpu[a]:F1}, B {gpu[b]:F1}, ratio {share:F3}");
        Assert.InRange(share, 1.8, 2.2);
    }

    [Fact]
    public async Task Enqueue_OverPerUserLimit_ThrowsQuotaAndStoresNothing()
    {
        using var h = new QueueHarness(new GenerationOptions { MaxQueuedJobsPerUser = 2 });
        var a = await h.Database.AddUserAsync("a@x.test");
        await h.SubmitAsync(a, QueueHarness.Settings(), null, Ct);
        await h.SubmitAsync(a, QueueHarness.Settings(), null, Ct);

        await Assert.ThrowsAsync<QuotaExceededException>(() => h.SubmitAsync(a, QueueHarness.Settings(), null, Ct));
        await using var db = h.Database.CreateDbContext();
        Assert.Equal(2, await db.GenerationJobs.CountAsync(Ct));
    }

    [Fact]
    public async Task Enqueue_ConcurrentSubmissions_NeverOvershootPerUserLimit()
    {
        using var h = new QueueHarness(new GenerationOptions { MaxQueuedJobsPerUser = 3 });
        var a = await h.Database.AddUserAsync("a@x.test");

        var attempts = await Task.WhenAll(Enumerable.Range(0, 12).Select(async i =>
        {
            try { await h.SubmitAsync(a, QueueHarness.Settings(seed: i), null, Ct); return true; }
            catch (QuotaExceededException) { return false; }
        }));

        Assert.Equal(3, attempts.Count(ok => ok));
        Assert.Equal(3, h.Queue.QueuedCount);
    }

    [Fact]
    public async Task Enqueue_PerUserQuotaPolicy_OverridesDefaults()
    {
        using var h = new QueueHarness(new GenerationOptions { MaxQueuedJobsPerUser = 5 });
        var a = await h.Database.AddUserAsync("a@x.test");
        await using (var db = h.Database.CreateDbContext())
        {
            db.QuotaPolicies.Add(new QuotaPolicy { UserId = a, MaxQueuedJobs = 1, UpdatedAt = DateTimeOffset.UtcNow });
            await db.SaveChangesAsync(Ct);
        }
        await h.SubmitAsync(a, QueueHarness.Settings(), null, Ct);
        var ex = await Assert.ThrowsAsync<QuotaExceededException>(() => h.SubmitAsync(a, QueueHarness.Settings(), null, Ct));
        Assert.Contains("limit 1", ex.Message);
    }

    [Fact]
    public async Task Enqueue_DailyImageQuotaReached_Throws()
    {
        using var h = new QueueHarness(quotas: new QuotaOptions { ImagesPerDay = 3 });
        var a = await h.Database.AddUserAsync("a@x.test");
        await h.SubmitAsync(a, QueueHarness.Settings(batch: 2), null, Ct);
        var ex = await Assert.ThrowsAsync<QuotaExceededException>(() => h.SubmitAsync(a, QueueHarness.Settings(batch: 2), null, Ct));
        Assert.Contains("images per day", ex.Message);
    }

    [Theory]
    [InlineData(SamplerKind.Lms, true)]
    [InlineData(SamplerKind.Ddim, false)]
    public async Task Enqueue_KarrasSigmas_StoredOnlyForSamplersThatUseThem(SamplerKind sampler, bool stored)
    {
        using var h = new QueueHarness();
        var a = await h.Database.AddUserAsync("a@x.test");
        var settings = QueueHarness.Settings();
        settings.Sampler = sampler;
        settings.KarrasSigmas = true;

        var job = await h.SubmitAsync(a, settings, null, Ct);

        Assert.Equal(stored, job.Settings.KarrasSigmas);
        await using var db = h.Database.CreateDbContext();
        var row = await db.GenerationJobs.AsNoTracking().SingleAsync(j => j.Id == job.Id, Ct);
        Assert.Equal((sampler, stored), (row.Settings.Sampler, row.Settings.KarrasSigmas));
    }

    [Theory]
    [InlineData(10000, "tiny-shapes", "Steps must be between", "steps")]
    [InlineData(20, "../x", "Unknown model", "model")]
    [InlineData(0, "tiny-shapes", "Steps must be between", "steps")]
    public async Task Enqueue_InvalidSettings_RejectedByService(int steps, string model, string message, string field)
    {
        using var h = new QueueHarness();
        var a = await h.Database.AddUserAsync("a@x.test");
        var settings = QueueHarness.Settings(steps: steps);
        settings.Model = model;

        var ex = await Assert.ThrowsAsync<RequestInvalidException>(() => h.SubmitAsync(a, settings, null, Ct));
        Assert.Contains(message, ex.Message);
        Assert.Contains(field, ex.FieldErrors.Keys);
        await using var db = h.Database.CreateDbContext();
        Assert.Equal(0, await db.GenerationJobs.CountAsync(Ct));
    }

    [Fact]
    public async Task Cancel_QueuedJob_MarksCancelledAndSkipsIt()
    {
        using var h = new QueueHarness();
        var a = await h.Database.AddUserAsync("a@x.test");
        var first = await h.SubmitAsync(a, QueueHarness.Settings("first"), null, Ct);
        var second = await h.SubmitAsync(a, QueueHarness.Settings("second"), null, Ct);

        await h.CancelAsync(a, first.Id, Ct);
        var running = await h.DequeueOneAsync(Ct);
        Assert.Equal(second.Id, running.JobId);
        await using var db = h.Database.CreateDbContext();
        Assert.Equal(JobState.Cancelled, (await db.GenerationJobs.SingleAsync(j => j.Id == first.Id, Ct)).State);
    }

    [Fact]
    public async Task Cancel_OtherUsersJob_IsNotFoundAndLeavesItQueued()
    {
        using var h = new QueueHarness();
        var a = await h.Database.AddUserAsync("a@x.test");
        var b = await h.Database.AddUserAsync("b@x.test");
        var job = await h.SubmitAsync(a, QueueHarness.Settings(), null, Ct);

        await Assert.ThrowsAsync<NotFoundException>(() => h.CancelAsync(b, job.Id, Ct));
        Assert.Equal(1, h.Queue.GetPosition(job.Id));
    }

    [Fact]
    public async Task Recover_InterruptedOnceRequeuedFirst_InterruptedTwiceFailedAndRefunded_QueuedResumedInOrder()
    {
        using var h = new QueueHarness();
        var a = await h.Database.AddUserAsync("a@x.test");
        var older = Guid.NewGuid();
        var newer = Guid.NewGuid();
        var crashedOnce = Guid.NewGuid();
        var crashedTwice = Guid.NewGuid();
        await using (var db = h.Database.CreateDbContext())
        {
            db.GenerationJobs.AddRange(
                new GenerationJob { Id = newer, OwnerId = a, State = JobState.Queued, Settings = QueueHarness.Settings(), CreatedAt = DateTimeOffset.UtcNow },
                new GenerationJob { Id = older, OwnerId = a, State = JobState.Queued, Settings = QueueHarness.Settings(), CreatedAt = DateTimeOffset.UtcNow.AddMinutes(-1) },
                new GenerationJob { Id = crashedOnce, OwnerId = a, State = JobState.Running, Attempts = 1, Settings = QueueHarness.Settings(), CreatedAt = DateTimeOffset.UtcNow.AddMinutes(-2) },
                new GenerationJob { Id = crashedTwice, OwnerId = a, State = JobState.Running, Attempts = 2, Settings = QueueHarness.Settings(batch: 3), CreatedAt = DateTimeOffset.UtcNow.AddMinutes(-3) });
            db.UsageEntries.Add(new UsageEntry { UserId = a, JobId = crashedTwice, Kind = UsageKind.Reservation, Images = 3, CreatedAt = DateTimeOffset.UtcNow.AddMinutes(-3) });
            await db.SaveChangesAsync(Ct);
        }

        await h.CreateRecovery().StartAsync(Ct);

        Assert.Equal(1, h.Queue.GetPosition(crashedOnce));
        Assert.Equal(2, h.Queue.GetPosition(older));
        Assert.Equal(3, h.Queue.GetPosition(newer));
        Assert.Null(h.Queue.GetPosition(crashedTwice));
        await using var check = h.Database.CreateDbContext();
        Assert.Equal(JobState.Queued, (await check.GenerationJobs.SingleAsync(j => j.Id == crashedOnce, Ct)).State);
        var failed = await check.GenerationJobs.SingleAsync(j => j.Id == crashedTwice, Ct);
        Assert.Equal(JobState.Failed, failed.State);
        Assert.Equal(JobRecovery.GaveUpMessage, failed.Error);
        var refund = await check.UsageEntries.SingleAsync(u => u.JobId == crashedTwice && u.Kind == UsageKind.Refund, Ct);
        Assert.Equal(3, refund.Images);
    }
}
