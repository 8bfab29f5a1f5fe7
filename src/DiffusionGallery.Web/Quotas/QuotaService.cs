using DiffusionGallery.Web.Data;
using DiffusionGallery.Web.Data.Entities;
using DiffusionGallery.Web.Errors;
using DiffusionGallery.Web.Options;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace DiffusionGallery.Web.Quotas;

/// <summary>A user's daily image allowance right now.</summary>
public sealed record QuotaUsage(int ImagesPerDay, int ImagesUsed, DateTimeOffset? ResetsAt)
{
    public bool Unlimited => ImagesPerDay <= 0;
    public int? Remaining => Unlimited ? null : Math.Max(0, ImagesPerDay - ImagesUsed);
}

/// <summary>
/// Quota accounting. <see cref="ReserveAndStoreAsync"/> checks every limit and stores the job with its ledger
/// reservation in ONE write transaction (one writer in this process, <c>BEGIN IMMEDIATE</c> across processes), so
/// concurrent submissions can neither overspend nor wrongly refuse.
/// </summary>
public sealed class QuotaService(
    IDbContextFactory<ApplicationDbContext> dbFactory,
    IQuotaPolicyProvider policies,
    IOptions<GenerationOptions> generation,
    TimeProvider time,
    ILogger<QuotaService> logger)
{
    /// <summary>How far back the daily allowance looks.</summary>
    public static readonly TimeSpan Window = TimeSpan.FromDays(1);

    private readonly SemaphoreSlim _writer = new(1, 1);

    /// <summary>Stores <paramref name="job"/> (state Queued) and reserves its images, or throws <see cref="QuotaExceededException"/>.</summary>
    public async Task ReserveAndStoreAsync(GenerationJob job, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(job);
        var limits = await policies.GetLimitsAsync(job.OwnerId, cancellationToken);
        var maxQueueLength = generation.Value.MaxQueueLength;

        await _writer.WaitAsync(cancellationToken);
        try
        {
            await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
            await using var transaction = await db.BeginWriteAsync(cancellationToken);
            var now = time.GetUtcNow();

            var queuedTotal = await db.GenerationJobs.CountAsync(j => j.State == JobState.Queued, cancellationToken);
            if (queuedTotal >= maxQueueLength)
                throw new QuotaExceededException("queueLength", "The server queue is full. Try again in a moment.", 0);
            var mine = await db.GenerationJobs.CountAsync(j => j.OwnerId == job.OwnerId && j.State == JobState.Queued, cancellationToken);
            if (mine >= limits.MaxQueuedJobs)
                throw new QuotaExceededException("queuedJobs", $"You already have {mine} jobs waiting (limit {limits.MaxQueuedJobs}). Wait for one to finish.", 0);
            if (limits.ImagesPerDay > 0)
            {
                var (used, oldest) = await UsageLedger.UsedSinceAsync(db, job.OwnerId, now - Window, cancellationToken);
                var wanted = job.Settings.BatchCount;
                if (used + wanted > limits.ImagesPerDay)
                {
                    var remaining = Math.Max(0, limits.ImagesPerDay - used);
                    DateTimeOffset? resetsAt = oldest is { } o ? o + Window : null;
                    throw new QuotaExceededException("imagesPerDay",
                        $"Daily quota reached: {used} of {limits.ImagesPerDay} images used or queued in the last 24 hours, {remaining} left; " +
                        $"this request needs {wanted}." + (resetsAt is { } r ? $" More become available at {r:yyyy-MM-dd HH:mm} UTC." : ""),
                        remaining, resetsAt);
                }
            }

            job.State = JobState.Queued;
            db.GenerationJobs.Add(job);
            UsageLedger.Reserve(db, job, now);
            await db.SaveChangesAsync(cancellationToken);
            await transaction.CommitAsync(cancellationToken);
        }
        finally
        {
            _writer.Release();
        }
        logger.LogInformation("Job {JobId} stored for user {UserId}: {Images} images reserved", job.Id, job.OwnerId, job.Settings.BatchCount);
    }

    /// <summary>The user's daily allowance and what is used of it (reservations of the last 24 hours, less refunds).</summary>
    public async Task<QuotaUsage> GetUsageAsync(string userId, CancellationToken cancellationToken = default)
    {
        var limits = await policies.GetLimitsAsync(userId, cancellationToken);
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var (used, oldest) = await UsageLedger.UsedSinceAsync(db, userId, time.GetUtcNow() - Window, cancellationToken);
        return new QuotaUsage(limits.ImagesPerDay, used, oldest is { } o ? o + Window : null);
    }
}
