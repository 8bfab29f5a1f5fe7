using DiffusionGallery.Web.Data;
using DiffusionGallery.Web.Data.Entities;
using DiffusionGallery.Web.Generation;
using Microsoft.EntityFrameworkCore;

namespace DiffusionGallery.Web.Admin;

/// <summary>
/// Every 5 s: reads the jobs that finished since the last look (the database is the source of truth) into the
/// meters, and samples the queue length and the worker's busy share of the last minute.
/// </summary>
public sealed class JobMetricsSampler(
    IDbContextFactory<ApplicationDbContext> dbFactory,
    GenerationQueue queue,
    GenerationMetrics metrics,
    TimeProvider time,
    ILogger<JobMetricsSampler> logger) : BackgroundService
{
    public static readonly TimeSpan Interval = TimeSpan.FromSeconds(5);
    private static readonly TimeSpan BusyWindow = TimeSpan.FromMinutes(1);

    private DateTimeOffset _watermark;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        _watermark = time.GetUtcNow();
        using var timer = new PeriodicTimer(Interval, time);
        while (await timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false))
        {
            try
            {
                await SampleAsync(stoppingToken);
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                logger.LogWarning(ex, "Sampling generation metrics failed");
            }
        }
    }

    internal async Task SampleAsync(CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        var windowStart = now - BusyWindow;
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var since = _watermark;
        var finished = await db.GenerationJobs.AsNoTracking()
            .Where(j => j.FinishedAt != null && j.FinishedAt > since && j.FinishedAt <= now)
            .Select(j => new { j.State, j.CreatedAt, j.StartedAt, j.FinishedAt, j.Settings.Steps, Images = j.Images.Count })
            .ToListAsync(cancellationToken);
        foreach (var job in finished)
        {
            var outcome = job.State switch { JobState.Succeeded => "succeeded", JobState.Failed => "failed", _ => "cancelled" };
            double? wait = job.StartedAt is { } started ? (started - job.CreatedAt).TotalSeconds : null;
            double? run = job.StartedAt is { } s && job.FinishedAt is { } f ? (f - s).TotalSeconds : null;
            metrics.JobFinished(outcome, wait, run, job.Steps, job.Images);
        }
        _watermark = now;

        var recent = await db.GenerationJobs.AsNoTracking()
            .Where(j => j.StartedAt != null && (j.FinishedAt == null || j.FinishedAt > windowStart))
            .Select(j => new { j.StartedAt, j.FinishedAt }).ToListAsync(cancellationToken);
        var busy = recent.Sum(j =>
        {
            var start = j.StartedAt!.Value < windowStart ? windowStart : j.StartedAt.Value;
            var end = j.FinishedAt ?? now;
            return Math.Max(0, (end - start).TotalSeconds);
        });
        metrics.Sample(now, queue.QueuedCount, busy / BusyWindow.TotalSeconds);
    }
}
