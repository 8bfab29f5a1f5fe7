using DiffusionGallery.Web.Data;
using DiffusionGallery.Web.Data.Entities;
using DiffusionGallery.Web.Quotas;
using Microsoft.EntityFrameworkCore;

namespace DiffusionGallery.Web.Generation;

/// <summary>
/// At start-up, before the worker: a job left Running by a crash goes back to the queue once (its partial files are
/// swept by the gallery's storage sweep); interrupted a second time it fails with a clear message and its reservation
/// is refunded. Then the in-memory order is rebuilt from the Queued rows, oldest first.
/// </summary>
public sealed class JobRecovery(IDbContextFactory<ApplicationDbContext> dbFactory, GenerationQueue queue, TimeProvider time, ILogger<JobRecovery> logger)
    : IHostedService
{
    /// <summary>Starts a job may have; an interruption after the last one fails it.</summary>
    public const int MaxAttempts = 2;

    public const string GaveUpMessage = "The server stopped twice while this job was running, so it was not tried again. Submit it again if you still want it.";

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        int requeued, failed;
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        await using (var transaction = await db.BeginWriteAsync(cancellationToken))
        {
            var now = time.GetUtcNow();
            requeued = await db.GenerationJobs.Where(j => j.State == JobState.Running && j.Attempts < MaxAttempts)
                .ExecuteUpdateAsync(s => s.SetProperty(j => j.State, JobState.Queued).SetProperty(j => j.StartedAt, (DateTimeOffset?)null), cancellationToken);
            var givingUp = await db.GenerationJobs.Where(j => j.State == JobState.Running).Select(j => j.Id).ToListAsync(cancellationToken);
            failed = await db.GenerationJobs.Where(j => j.State == JobState.Running)
                .ExecuteUpdateAsync(s => s.SetProperty(j => j.State, JobState.Failed).SetProperty(j => j.Error, GaveUpMessage).SetProperty(j => j.FinishedAt, now), cancellationToken);
            foreach (var jobId in givingUp) await UsageLedger.SettleAsync(db, jobId, 0, 0, "", now, cancellationToken);
            await db.SaveChangesAsync(cancellationToken);
            await transaction.CommitAsync(cancellationToken);
        }
        var queued = await db.GenerationJobs.AsNoTracking().Where(j => j.State == JobState.Queued)
            .OrderBy(j => j.CreatedAt).ThenBy(j => j.Id)
            .Select(j => new { j.Id, j.OwnerId, j.Settings }).ToListAsync(cancellationToken);
        var weights = await db.QuotaPolicies.AsNoTracking().Where(q => q.Weight != null).ToDictionaryAsync(q => q.UserId, q => q.Weight!.Value, cancellationToken);
        queue.EnqueueRange(queued.Select(j => new QueuedJob(j.Id, j.OwnerId, JobCostEstimator.Units(j.Settings.Steps, j.Settings.BatchCount, j.Settings.Width, j.Settings.Height),
            weights.GetValueOrDefault(j.OwnerId, 1), j.Settings)));
        logger.LogInformation("Queue recovered: {Queued} queued jobs resume ({Requeued} of them interrupted once), {Failed} interrupted twice failed",
            queued.Count, requeued, failed);
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
