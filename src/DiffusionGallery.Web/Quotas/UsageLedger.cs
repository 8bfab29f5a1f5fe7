using DiffusionGallery.Web.Data;
using DiffusionGallery.Web.Data.Entities;
using Microsoft.EntityFrameworkCore;

namespace DiffusionGallery.Web.Quotas;

/// <summary>
/// The append-only usage ledger: rows are added inside the caller's transaction (with the job row or state change they
/// account for), never updated or deleted. Per job: a Reservation (images asked for, GPU-seconds estimated) when it is
/// accepted; when it ends, a Charge (images made, GPU-seconds it really ran) and a Refund (images not made, and the
/// whole GPU-second estimate, which the Charge replaces). Used = reserved − refunded + charged GPU-seconds.
/// </summary>
public static class UsageLedger
{
    public static void Reserve(ApplicationDbContext db, GenerationJob job, DateTimeOffset now, double estimatedGpuSeconds = 0) =>
        db.UsageEntries.Add(new UsageEntry
        {
            UserId = job.OwnerId, JobId = job.Id, Kind = UsageKind.Reservation, Images = job.Settings.BatchCount,
            GpuSeconds = Math.Max(0, estimatedGpuSeconds), CreatedAt = now,
        });

    /// <summary>Closes a job's account: a Charge for what was made and ran, a Refund for the rest of its reservation.</summary>
    public static Task SettleAsync(ApplicationDbContext db, Guid jobId, int imagesMade, double gpuSeconds, string executionProvider,
        DateTimeOffset now, CancellationToken cancellationToken = default) =>
        SettleAsync(db, [new Settlement(jobId, imagesMade, gpuSeconds, executionProvider)], now, cancellationToken);

    /// <summary>Closes many jobs' accounts with one read of their ledger rows (a shared run's jobs end together).</summary>
    public static async Task SettleAsync(ApplicationDbContext db, IReadOnlyCollection<Settlement> settlements, DateTimeOffset now,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(settlements);
        if (settlements.Count == 0) return;
        var jobIds = settlements.Select(s => s.JobId).Distinct().ToList();
        var entries = (await db.UsageEntries.Where(u => jobIds.Contains(u.JobId)).ToListAsync(cancellationToken)).ToLookup(u => u.JobId);
        foreach (var settlement in settlements)
        {
            var (jobId, imagesMade, gpuSeconds, executionProvider) = settlement;
            var reservation = entries[jobId].FirstOrDefault(u => u.Kind == UsageKind.Reservation);
            if (reservation is null || entries[jobId].Any(u => u.Kind != UsageKind.Reservation)) continue; // not reserved here, or settled already
            if (imagesMade > 0 || gpuSeconds > 0)
                db.UsageEntries.Add(new UsageEntry
                {
                    UserId = reservation.UserId, JobId = jobId, Kind = UsageKind.Charge, Images = imagesMade, GpuSeconds = Math.Max(0, gpuSeconds),
                    ExecutionProvider = executionProvider, CreatedAt = now,
                });
            var unused = Math.Max(0, reservation.Images - imagesMade);
            if (unused > 0 || reservation.GpuSeconds > 0)
                db.UsageEntries.Add(new UsageEntry
                {
                    UserId = reservation.UserId, JobId = jobId, Kind = UsageKind.Refund, Images = unused, GpuSeconds = reservation.GpuSeconds, CreatedAt = now,
                });
        }
    }

    /// <summary>What counts against the user for jobs reserved since <paramref name="since"/> (open reservations at their estimate).</summary>
    public static async Task<UsageTotals> UsedSinceAsync(ApplicationDbContext db, string userId, DateTimeOffset since, CancellationToken cancellationToken = default)
    {
        var totals = await UsedSinceAsync(db, [userId], since, cancellationToken);
        return totals.GetValueOrDefault(userId, UsageTotals.None);
    }

    /// <summary>The same for many users at once (null: everybody).</summary>
    public static async Task<Dictionary<string, UsageTotals>> UsedSinceAsync(ApplicationDbContext db, IReadOnlyCollection<string>? userIds, DateTimeOffset since,
        CancellationToken cancellationToken = default)
    {
        var reservations = db.UsageEntries.Where(u => u.Kind == UsageKind.Reservation && u.CreatedAt >= since);
        if (userIds is not null) reservations = reservations.Where(u => userIds.Contains(u.UserId));
        var jobs = reservations.Select(u => u.JobId);
        var rows = await db.UsageEntries.AsNoTracking().Where(u => jobs.Contains(u.JobId))
            .GroupBy(u => new { u.UserId, u.Kind })
            .Select(g => new { g.Key.UserId, g.Key.Kind, Images = g.Sum(u => u.Images), Gpu = g.Sum(u => u.GpuSeconds) })
            .ToListAsync(cancellationToken);
        return rows.GroupBy(r => r.UserId, StringComparer.Ordinal).ToDictionary(g => g.Key, g =>
        {
            int Images(UsageKind kind) => g.Where(r => r.Kind == kind).Sum(r => r.Images);
            double Gpu(UsageKind kind) => g.Where(r => r.Kind == kind).Sum(r => r.Gpu);
            return new UsageTotals(
                Images(UsageKind.Reservation) - Images(UsageKind.Refund),
                Math.Max(0, Gpu(UsageKind.Reservation) - Gpu(UsageKind.Refund) + Gpu(UsageKind.Charge)));
        }, StringComparer.Ordinal);
    }
}

/// <summary>How one job's account closes: images made and GPU-seconds run (0 and 0 for a refund of everything).</summary>
public sealed record Settlement(Guid JobId, int ImagesMade, double GpuSeconds, string ExecutionProvider);
