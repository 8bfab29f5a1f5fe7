namespace DiffusionGallery.Web.Quotas;

/// <summary>
/// Where a user's effective limits come from: <see cref="EffectiveQuotaResolver"/> layers the <c>Quotas</c> defaults,
/// role layers and the admin's per-user override. Asked once per submission, before the write transaction.
/// </summary>
public interface IQuotaPolicyProvider
{
    Task<EffectiveQuota> GetAsync(string userId, CancellationToken cancellationToken = default);
}
