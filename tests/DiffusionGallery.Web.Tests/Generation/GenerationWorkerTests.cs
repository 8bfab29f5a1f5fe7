using DiffusionGallery.Web.Data.Entities;
using DiffusionGallery.Web.Generation;
using DiffusionGallery.Web.Tests.Support;
using Microsoft.EntityFrameworkCore;

namespace DiffusionGallery.Web.Tests.Generation;

public sealed class GenerationWorkerTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static async Task<JobUpdate> RunUntilFinishedAsync(QueueHarness h, Guid jobId, Action<JobUpdate>? onUpdate = null)
    {
        var done = new TaskCompletionSource<JobUpdate>(TaskCreationOptions.RunContinuationsAsynchronously);
        using var subscription = h.Notifier.Subscribe(jobId, update =>
        {
            onUpdate?.Invoke(update);
            if (update.IsFinished) done.TrySetResult(update);
            return Task.CompletedTask;
        });
        return await done.Task.WaitAsync(TimeSpan.FromSeconds(30), Ct);
    }

    [Fact]
    public async Task Worker_Success_StoresFilesRowsAndUsage()
    {
        using var h = new QueueHarness();
        var a = await h.Database.AddUserAsync("a@x.test");
        using var worker = h.CreateWorker();
        await worker.StartAsync(Ct);
        var job = await h.SubmitAsync(a, QueueHarness.Settings(batch: 2, seed: 7), null, Ct);

        var final = await RunUntilFinishedAsync(h, job.Id);
        await worker.StopAsync(Ct);

        Assert.Equal(JobState.Succeeded, final.State);
        Assert.Equal(2, final.ImageIds.Count);
        await using var db = h.Database.CreateDbContext();
        var images = await db.GeneratedImages.Where(i => i.JobId == job.Id).OrderBy(i => i.Seed).ToListAsync(Ct);
        Assert.Equal([7L, 8L], images.Select(i => i.Seed));
        Assert.All(images, i =>
        {
            Assert.True(File.Exists(h.Store.GetImagePath(i.Id)));
            Assert.True(File.Exists(h.Store.GetThumbnailPath(i.Id)));
            Assert.Equal(new FileInfo(h.Store.GetImagePath(i.Id)).Length, i.FileSize);
            Assert.Equal(a, i.OwnerId);
        });
        var ledger = await db.UsageEntries.Where(u => u.JobId == job.Id).OrderBy(u => u.Id).Select(u => new { u.Kind, u.Images }).ToListAsync(Ct);
        // The charge replaces the reservation's GPU-second estimate, which the (image-less) refund gives back.
        Assert.Equal([(UsageKind.Reservation, 2), (UsageKind.Charge, 2), (UsageKind.Refund, 0)], ledger.Select(u => (u.Kind, u.Images)));
        Assert.Equal(JobState.Succeeded, (await db.GenerationJobs.SingleAsync(j => j.Id == job.Id, Ct)).State);
    }

    [Fact]
    public async Task Worker_KarrasSigmas_ReachTheEngineAndAreStoredOnJobAndImages()
    {
        using var h = new QueueHarness();
        var a = await h.Database.AddUserAsync("a@x.test");
        using var worker = h.CreateWorker();
        await worker.StartAsync(Ct);
        var settings = QueueHarness.Settings(batch: 2);
        settings.Sampler = DiffusionGallery.Inference.Abstractions.SamplerKind.DpmPlusPlus2M;
        settings.KarrasSigmas = true;
        var job = await h.SubmitAsync(a, settings, null, Ct);

        var final = await RunUntilFinishedAsync(h, job.Id);
        await worker.StopAsync(Ct);

        Assert.Equal(JobState.Succeeded, final.State);
        Assert.True(Assert.Single(h.Generator.Requests).KarrasSigmas);
        await using var db = h.Database.CreateDbContext();
        Assert.True((await db.GenerationJobs.AsNoTracking().SingleAsync(j => j.Id == job.Id, Ct)).Settings.KarrasSigmas);
        var images = await db.GeneratedImages.AsNoTracking().Where(i => i.JobId == job.Id).ToListAsync(Ct);
        Assert.Equal(2, images.Count);
        Assert.All(images, i => Assert.True(i.Settings.KarrasSigmas));
        Assert.Equal(2, await db.GeneratedImages.CountAsync(i => i.Settings.KarrasSigmas, Ct));
    }

    [Fact]
    public async Task Worker_CancelWhileRunning_EndsCancelledWithoutImages()
    {
        using var h = new QueueHarness();
        h.Generator.StepDelay = TimeSpan.FromMilliseconds(50);
        var a = await h.Database.AddUserAsync("a@x.test");
        using var worker = h.CreateWorker();
        await worker.StartAsync(Ct);
        var job = await h.SubmitAsync(a, QueueHarness.Settings(steps: 100), null, Ct);
        var cancelled = false;

        var final = await RunUntilFinishedAsync(h, job.Id, update =>
        {
            if (update.Step >= 2 && !cancelled)
            {
                cancelled = true;
                _ = h.CancelAsync(a, job.Id, Ct);
            }
        });
        await worker.StopAsync(Ct);

        Assert.Equal(JobState.Cancelled, final.State);
        await using var db = h.Database.CreateDbContext();
        Assert.Equal(JobState.Cancelled, (await db.GenerationJobs.SingleAsync(j => j.Id == job.Id, Ct)).State);
        Assert.Equal(0, await db.GeneratedImages.CountAsync(Ct));
        Assert.Empty(Directory.EnumerateFiles(h.Store.RootPath, "*", SearchOption.AllDirectories));
        var refund = await db.UsageEntries.SingleAsync(u => u.JobId == job.Id && u.Kind == UsageKind.Refund, Ct);
        Assert.Equal(1, refund.Images); // the reservation comes back: nothing was made
    }

    [Fact]
    public async Task Worker_EngineThrows_JobFailsWithMessage()
    {
        using var h = new QueueHarness();
        h.Generator.FailWith = new InvalidOperationException("out of memory");
        var a = await h.Database.AddUserAsync("a@x.test");
        using var worker = h.CreateWorker();
        await worker.StartAsync(Ct);
        var job = await h.SubmitAsync(a, QueueHarness.Settings(), null, Ct);

        var final = await RunUntilFinishedAsync(h, job.Id);
        await worker.StopAsync(Ct);

        Assert.Equal(JobState.Failed, final.State);
        Assert.Contains("out of memory", final.Error);
        await using var db = h.Database.CreateDbContext();
        Assert.Contains("out of memory", (await db.GenerationJobs.SingleAsync(j => j.Id == job.Id, Ct)).Error);
        Assert.Equal(1, (await db.UsageEntries.SingleAsync(u => u.JobId == job.Id && u.Kind == UsageKind.Refund, Ct)).Images);
    }
}
