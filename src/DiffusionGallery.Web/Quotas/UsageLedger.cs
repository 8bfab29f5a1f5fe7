using DiffusionGallery.Web.Data;
using DiffusionGallery.Web.Data.Entities;
using Microsoft.EntityFrameworkCore;

namespace DiffusionGallery.Web.Quotas;

/// <summary>
/// The append-only usage ledger: rows are added inside the caller's transaction (with the job row or state change they
/// account for), never updated or deleted.
/// </summary>
public static class UsageLedger
{
    public static void Reserve(ApplicationDbContext db, GenerationJob job, DateTimeOffset now) =>
        db.UsageEntries.Add(new UsageEntry { UserId = job.OwnerId, JobId = job.Id, Kind = UsageKind.Reservation, Images = job.Settings.BatchCount, CreatedAt = now });

    /// <summary>Closes a job's account: a Charge for the images made and a Refund for the rest of its reservation.</summary>
    public static async Task SettleAsync(ApplicationDbContext db, Guid jobId, int imagesMade, double gpuSeconds, string executionProvider,
        DateTimeOffset now, CancellationToken cancellationToken = default)
    {
        var entries = await db.UsageEntries.Where(u => u.JobId == jobId).ToListAsync(cancellationToken);
        var reservation = entries.FirstOrDefault(u => u.Kind == UsageKind.Reservation);
        if (reservation is null || entries.Any(u => u.Kind != UsageKind.Reservation)) return; // not reserved here, or settled already
        if (imagesMade > 0 || gpuSeconds > 0)
            db.UsageEntries.Add(new UsageEntry
            {
                UserId = reservation.UserId, JobId = jobId, Kind = UsageKind.Charge, Images = imagesMade, GpuSeconds = gpuSeconds,
                ExecutionProvider = executionProvider, CreatedAt = now,
            });
        var unused = reservation.Images - imagesMade;
        if (unused > 0)
            db.UsageEntries.Add(new UsageEntry { UserId = reservation.UserId, JobId = jobId, Kind = UsageKind.Refund, Images = unused, CreatedAt = now });
    }

    /// <summary>Images counted against the user since <paramref name="since"/>: reservations made since then, less their refunds.</summary>
    public static async Task<(int Images, DateTimeOffset? OldestReservation)> UsedSinceAsync(ApplicationDbContext db, string userId, DateTimeOffset since,
        CancellationToken cancellationToken = default)
    {
        var reservations = db.UsageEntries.Where(u => u.UserId == userId && u.Kind == UsageKind.Reservation && u.CreatedAt >= since);
        var reserved = await reservations.SumAsync(u => u.Images, cancellationToken);
        if (reserved == 0) return (0, null);
        var jobs = reservations.Select(u => u.JobId);
        var refunded = await db.UsageEntries.Where(u => u.UserId == userId && u.Kind == UsageKind.Refund && jobs.Contains(u.JobId))
            .SumAsync(u => u.Images, cancellationToken);
        var oldest = await reservations.OrderBy(u => u.CreatedAt).Select(u => u.CreatedAt).FirstAsync(cancellationToken);
        return (reserved - refunded, oldest);
    }
}
