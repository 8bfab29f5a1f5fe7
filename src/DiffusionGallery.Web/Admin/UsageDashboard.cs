using DiffusionGallery.Web.Data;
using DiffusionGallery.Web.Data.Entities;
using DiffusionGallery.Web.Generation;
using Microsoft.EntityFrameworkCore;

namespace DiffusionGallery.Web.Admin;

public sealed record DailyUsage(DateOnly Day, int Images, double GpuSeconds);
public sealed record NamedUsage(string Name, int Images, double GpuSeconds);
public sealed record WaitStats(int Jobs, double P50Seconds, double P95Seconds);

public sealed record DashboardData(
    IReadOnlyList<DailyUsage> PerDay,
    IReadOnlyList<NamedUsage> PerUser,
    IReadOnlyList<NamedUsage> PerModel,
    IReadOnlyDictionary<JobState, int> Outcomes,
    WaitStats Wait,
    int QueueLengthNow,
    IReadOnlyList<(DateTimeOffset At, int Length)> QueueHistory);

/// <summary>The dashboard's figures: usage from the ledger, waits and outcomes from the jobs table, the queue from memory.</summary>
public sealed class UsageDashboard(IDbContextFactory<ApplicationDbContext> dbFactory, GenerationQueue queue, GenerationMetrics metrics, TimeProvider time)
{
    public const int TopUsers = 10;

    public async Task<DashboardData> LoadAsync(int days, CancellationToken cancellationToken = default)
    {
        days = Math.Clamp(days, 1, 366);
        var firstDay = DateOnly.FromDateTime(time.GetUtcNow().UtcDateTime).AddDays(1 - days);
        var since = new DateTimeOffset(firstDay.ToDateTime(TimeOnly.MinValue), TimeSpan.Zero);
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);

        // What was made and what ran: the ledger's charges (reservations and refunds balance out).
        var ledger = await db.UsageEntries.AsNoTracking().Where(u => u.Kind == UsageKind.Charge && u.CreatedAt >= since)
            .Select(u => new { u.UserId, u.JobId, u.Images, u.GpuSeconds, u.CreatedAt }).ToListAsync(cancellationToken);
        var perDay = Enumerable.Range(0, days).Select(i => firstDay.AddDays(i)).Select(day =>
        {
            var rows = ledger.Where(u => DateOnly.FromDateTime(u.CreatedAt.UtcDateTime) == day).ToList();
            return new DailyUsage(day, rows.Sum(r => r.Images), Math.Round(rows.Sum(r => r.GpuSeconds), 2));
        }).ToList();

        var userIds = ledger.Select(u => u.UserId).Distinct().ToList();
        var emails = await db.Users.AsNoTracking().Where(u => userIds.Contains(u.Id)).ToDictionaryAsync(u => u.Id, u => u.Email ?? u.Id, cancellationToken);
        var perUser = ledger.GroupBy(u => u.UserId)
            .Select(g => new NamedUsage(emails.GetValueOrDefault(g.Key, g.Key), g.Sum(r => r.Images), Math.Round(g.Sum(r => r.GpuSeconds), 2)))
            .OrderByDescending(u => u.GpuSeconds).Take(TopUsers).ToList();

        var jobIds = ledger.Select(u => u.JobId).Distinct().ToList();
        var models = await db.GenerationJobs.AsNoTracking().Where(j => jobIds.Contains(j.Id))
            .Select(j => new { j.Id, j.Settings.Model }).ToDictionaryAsync(j => j.Id, j => j.Model, cancellationToken);
        var perModel = ledger.GroupBy(u => models.GetValueOrDefault(u.JobId, "?"))
            .Select(g => new NamedUsage(g.Key, g.Sum(r => r.Images), Math.Round(g.Sum(r => r.GpuSeconds), 2)))
            .OrderByDescending(m => m.GpuSeconds).ToList();

        var jobs = await db.GenerationJobs.AsNoTracking().Where(j => j.CreatedAt >= since)
            .Select(j => new { j.State, j.CreatedAt, j.StartedAt }).ToListAsync(cancellationToken);
        var outcomes = Enum.GetValues<JobState>().ToDictionary(s => s, s => jobs.Count(j => j.State == s));
        var waits = jobs.Where(j => j.StartedAt is not null).Select(j => (j.StartedAt!.Value - j.CreatedAt).TotalSeconds).ToList();

        return new DashboardData(perDay, perUser, perModel, outcomes, Percentiles(waits), queue.QueuedCount, metrics.QueueHistory);
    }

    /// <summary>Nearest-rank percentiles of the waits (0 when there are none).</summary>
    public static WaitStats Percentiles(IReadOnlyCollection<double> waits)
    {
        if (waits.Count == 0) return new WaitStats(0, 0, 0);
        var sorted = waits.Order().ToArray();
        double Rank(double p) => sorted[Math.Clamp((int)Math.Ceiling(p * sorted.Length) - 1, 0, sorted.Length - 1)];
        return new WaitStats(sorted.Length, Math.Round(Rank(0.50), 3), Math.Round(Rank(0.95), 3));
    }
}
