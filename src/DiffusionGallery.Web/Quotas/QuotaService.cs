using DiffusionGallery.Web.Admin;
using DiffusionGallery.Web.Data;
using DiffusionGallery.Web.Data.Entities;
using DiffusionGallery.Web.Errors;
using DiffusionGallery.Web.Options;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace DiffusionGallery.Web.Quotas;

/// <summary>What an accepted job reserved, for the fair-share queue: its size in cost units and its owner's weight.</summary>
public sealed record QuotaReservation(double Units, double EstimatedGpuSeconds, double Weight);

/// <summary>
/// Quota accounting. <see cref="ReserveAndStoreAsync"/> checks every limit of the user's effective quota (defaults →
/// role layers → admin override) and stores the job with its ledger reservation in ONE write transaction (one writer in
/// this process, <c>BEGIN IMMEDIATE</c> across processes), so concurrent submissions can neither overspend nor wrongly
/// refuse. Images are reserved as asked; GPU-seconds as an estimate, settled by what ran.
/// </summary>
public sealed class QuotaService(
    IDbContextFactory<ApplicationDbContext> dbFactory,
    IQuotaPolicyProvider policies,
    IUserAccessCheck access,
    JobCostEstimator costs,
    QuotaClock clock,
    IOptions<GenerationOptions> generation,
    ILogger<QuotaService> logger)
{
    public const string DisabledMessage = "Your account has been disabled.";

    private readonly SemaphoreSlim _writer = new(1, 1);

    /// <summary>Stores <paramref name="job"/> (state Queued) and reserves its images and estimated GPU-seconds, or throws.</summary>
    public async Task<QuotaReservation> ReserveAndStoreAsync(GenerationJob job, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(job);
        if (!await access.IsAllowedAsync(job.OwnerId, cancellationToken)) throw new ForbiddenException(DisabledMessage);
        var quota = await policies.GetAsync(job.OwnerId, cancellationToken);
        var settings = job.Settings;
        CheckRequest(quota, settings);
        var units = JobCostEstimator.Units(settings.Steps, settings.BatchCount, settings.Width, settings.Height);
        var estimate = costs.Estimate(settings.Steps, settings.BatchCount, settings.Width, settings.Height);
        var maxQueued = Math.Min(quota.MaxQueuedJobs ?? int.MaxValue, generation.Value.MaxQueuedJobsPerUser);
        var maxQueueLength = generation.Value.MaxQueueLength;

        await _writer.WaitAsync(cancellationToken);
        try
        {
            await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
            await using var transaction = await db.BeginWriteAsync(cancellationToken);
            var now = clock.Now;

            var queuedTotal = await db.GenerationJobs.CountAsync(j => j.State == JobState.Queued, cancellationToken);
            if (queuedTotal >= maxQueueLength)
                throw new QuotaExceededException("queueLength", "The server queue is full. Try again in a moment.", 0);
            var mine = await db.GenerationJobs.CountAsync(j => j.OwnerId == job.OwnerId && j.State == JobState.Queued, cancellationToken);
            if (mine >= maxQueued)
                throw new QuotaExceededException("queuedJobs", $"You already have {mine} jobs waiting (limit {maxQueued}). Wait for one to finish.", 0);
            if (quota.ImagesPerDay is not null || quota.GpuSecondsPerDay is not null)
            {
                var used = await UsageLedger.UsedSinceAsync(db, job.OwnerId, clock.DayStart, cancellationToken);
                var resetsAt = clock.NextReset;
                if (quota.ImagesPerDay is { } images && used.Images + settings.BatchCount > images)
                {
                    var left = Math.Max(0, images - used.Images);
                    throw new QuotaExceededException("imagesPerDay",
                        $"Quota reached for images per day: {left} left of {images}, this request needs {settings.BatchCount}. {ResetText(resetsAt, now)}",
                        left, resetsAt);
                }
                if (quota.GpuSecondsPerDay is { } gpu && used.GpuSeconds + estimate > gpu)
                {
                    var left = Math.Max(0, gpu - used.GpuSeconds);
                    throw new QuotaExceededException("gpuSecondsPerDay",
                        $"Quota reached for GPU-seconds per day: {left:0.#} left of {gpu:0.#}, this request needs about {estimate:0.#}. {ResetText(resetsAt, now)}",
                        (long)Math.Floor(left), resetsAt);
                }
            }

            job.State = JobState.Queued;
            db.GenerationJobs.Add(job);
            UsageLedger.Reserve(db, job, now, estimate);
            await db.SaveChangesAsync(cancellationToken);
            await transaction.CommitAsync(cancellationToken);
        }
        finally
        {
            _writer.Release();
        }
        logger.LogInformation("Job {JobId} stored for user {UserId}: {Images} images and {Seconds:F2} GPU-seconds reserved", job.Id, job.OwnerId, settings.BatchCount, estimate);
        return new QuotaReservation(units, estimate, quota.Weight);
    }

    /// <summary>The user's limits and what is left today (<c>GET /api/me/quota</c>, the generate and account pages).</summary>
    public async Task<QuotaStatus> GetStatusAsync(string userId, CancellationToken cancellationToken = default)
    {
        var quota = await policies.GetAsync(userId, cancellationToken);
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var used = await UsageLedger.UsedSinceAsync(db, userId, clock.DayStart, cancellationToken);
        return QuotaStatus.From(quota, used, clock.NextReset);
    }

    /// <summary>Limits on one request (steps, pixels, batch, model): a 400 naming the field, as the REST body does.</summary>
    private static void CheckRequest(EffectiveQuota quota, GenerationSettings settings)
    {
        var errors = new Dictionary<string, string[]>();
        if (quota.MaxSteps is { } steps && settings.Steps > steps) errors["steps"] = [$"Your quota allows at most {steps} steps."];
        if (quota.MaxPixels is { } pixels && (long)settings.Width * settings.Height > pixels)
            errors["width"] = [$"Your quota allows at most {pixels} pixels per image ({settings.Width}×{settings.Height} is {(long)settings.Width * settings.Height})."];
        if (quota.MaxBatch is { } batch && settings.BatchCount > batch) errors["batchCount"] = [$"Your quota allows at most {batch} images per job."];
        if (!quota.AllowsModel(settings.Model)) errors["model"] = [$"Your quota does not include the model '{settings.Model}'. Allowed: {string.Join(", ", quota.AllowedModels)}."];
        if (errors.Count > 0) throw new RequestInvalidException(errors);
    }

    private static string ResetText(DateTimeOffset resetsAt, DateTimeOffset now)
    {
        var wait = resetsAt - now;
        return $"It resets at {resetsAt.UtcDateTime:HH:mm} UTC (in {(int)wait.TotalHours} h {wait.Minutes} min).";
    }
}
