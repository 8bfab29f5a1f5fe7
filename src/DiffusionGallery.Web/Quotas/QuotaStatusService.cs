namespace DiffusionGallery.Web.Quotas;

/// <summary>Combines the effective quota and today's usage from the ledger into a <see cref="QuotaStatus"/>.</summary>
public sealed class QuotaStatusService(EffectiveQuotaResolver resolver, UsageQueries usage, QuotaClock clock)
{
    public async Task<QuotaStatus> GetAsync(string userId, CancellationToken cancellationToken = default)
    {
        var quota = await resolver.GetAsync(userId, cancellationToken);
        var today = await usage.TodayAsync([userId], cancellationToken);
        return QuotaStatus.From(quota, today.GetValueOrDefault(userId, UsageTotals.None), clock.NextReset);
    }
}
