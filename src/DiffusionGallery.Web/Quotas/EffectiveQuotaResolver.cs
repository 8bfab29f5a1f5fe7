using DiffusionGallery.Web.Data;
using DiffusionGallery.Web.Data.Entities;
using DiffusionGallery.Web.Options;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace DiffusionGallery.Web.Quotas;

/// <summary>The one place that answers "what may this user do": defaults → role layers → the admin's override.</summary>
public sealed class EffectiveQuotaResolver(IDbContextFactory<ApplicationDbContext> dbFactory, IOptions<QuotaOptions> options) : IQuotaPolicyProvider
{
    public async Task<EffectiveQuota> GetAsync(string userId, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(userId);
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var roles = await (from ur in db.UserRoles
                           join r in db.Roles on ur.RoleId equals r.Id
                           where ur.UserId == userId
                           select r.Name).ToListAsync(cancellationToken);
        var policy = await db.QuotaPolicies.AsNoTracking().SingleOrDefaultAsync(q => q.UserId == userId, cancellationToken);
        return Resolve(options.Value, roles.OfType<string>(), policy);
    }

    /// <summary>Pure layering, for one user (also used by the admin list for many users at once).</summary>
    public static EffectiveQuota Resolve(QuotaOptions defaults, IEnumerable<string> roles, QuotaPolicy? policy)
    {
        QuotaLayer? roleLayer = null;
        foreach (var role in roles.Order(StringComparer.OrdinalIgnoreCase))
        {
            if (!defaults.Roles.TryGetValue(role, out var layer)) continue;
            roleLayer = roleLayer is null ? layer : QuotaLayer.MostGenerous(roleLayer, layer);
        }
        var combined = defaults.AsLayer();
        if (roleLayer is not null) combined = roleLayer.Over(combined);
        if (policy is not null) combined = ToLayer(policy).Over(combined);
        return EffectiveQuota.From(combined);
    }

    public static QuotaLayer ToLayer(QuotaPolicy policy) => new()
    {
        ImagesPerDay = policy.ImagesPerDay,
        GpuSecondsPerDay = policy.GpuSecondsPerDay,
        MaxQueuedJobs = policy.MaxQueuedJobs,
        MaxSteps = policy.MaxSteps,
        MaxPixels = policy.MaxPixels,
        MaxBatch = policy.MaxBatch,
        AllowedModels = policy.AllowedModels,
        Weight = policy.Weight,
    };
}
