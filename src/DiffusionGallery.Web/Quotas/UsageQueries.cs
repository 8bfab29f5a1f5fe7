using DiffusionGallery.Web.Data;
using Microsoft.EntityFrameworkCore;

namespace DiffusionGallery.Web.Quotas;

/// <summary>Images and GPU-seconds per user, read from the append-only usage ledger (the source of every figure).</summary>
public sealed record UsageTotals(int Images, double GpuSeconds)
{
    public static readonly UsageTotals None = new(0, 0);
}

public sealed class UsageQueries(IDbContextFactory<ApplicationDbContext> dbFactory, QuotaClock clock)
{
    public async Task<IReadOnlyDictionary<string, UsageTotals>> SinceAsync(DateTimeOffset since, IReadOnlyCollection<string>? userIds, CancellationToken cancellationToken = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var entries = db.UsageEntries.AsNoTracking().Where(u => u.CreatedAt >= since);
        if (userIds is not null) entries = entries.Where(u => userIds.Contains(u.UserId));
        var rows = await entries.GroupBy(u => u.UserId)
            .Select(g => new { UserId = g.Key, Images = g.Sum(u => u.Images), Gpu = g.Sum(u => u.GpuSeconds) })
            .ToListAsync(cancellationToken);
        return rows.ToDictionary(r => r.UserId, r => new UsageTotals(r.Images, r.Gpu), StringComparer.Ordinal);
    }

    public Task<IReadOnlyDictionary<string, UsageTotals>> TodayAsync(IReadOnlyCollection<string>? userIds, CancellationToken cancellationToken = default) =>
        SinceAsync(clock.DayStart, userIds, cancellationToken);

    public Task<IReadOnlyDictionary<string, UsageTotals>> ThisMonthAsync(IReadOnlyCollection<string>? userIds, CancellationToken cancellationToken = default) =>
        SinceAsync(clock.MonthStart, userIds, cancellationToken);
}
