using DiffusionGallery.Web.Data;
using Microsoft.EntityFrameworkCore;

namespace DiffusionGallery.Web.Quotas;

/// <summary>Images and GPU-seconds per user, read from the append-only usage ledger (the source of every figure).</summary>
public sealed record UsageTotals(int Images, double GpuSeconds)
{
    public static readonly UsageTotals None = new(0, 0);
}

/// <summary>Quota usage per user (reserved − refunded images; charged GPU-seconds, open reservations at their estimate).</summary>
public sealed class UsageQueries(IDbContextFactory<ApplicationDbContext> dbFactory, QuotaClock clock)
{
    public async Task<IReadOnlyDictionary<string, UsageTotals>> SinceAsync(DateTimeOffset since, IReadOnlyCollection<string>? userIds, CancellationToken cancellationToken = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        return await UsageLedger.UsedSinceAsync(db, userIds, since, cancellationToken);
    }

    public Task<IReadOnlyDictionary<string, UsageTotals>> TodayAsync(IReadOnlyCollection<string>? userIds, CancellationToken cancellationToken = default) =>
        SinceAsync(clock.DayStart, userIds, cancellationToken);

    public Task<IReadOnlyDictionary<string, UsageTotals>> ThisMonthAsync(IReadOnlyCollection<string>? userIds, CancellationToken cancellationToken = default) =>
        SinceAsync(clock.MonthStart, userIds, cancellationToken);
}
