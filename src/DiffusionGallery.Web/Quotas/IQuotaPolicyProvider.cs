using DiffusionGallery.Web.Data;
using DiffusionGallery.Web.Options;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace DiffusionGallery.Web.Quotas;

/// <summary>The limits in force for one user. 0 images per day means unlimited.</summary>
public sealed record QuotaLimits(int ImagesPerDay, int MaxQueuedJobs);

/// <summary>
/// Where a user's effective limits come from (the seam for role and per-user quotas: replace or decorate this
/// registration). Asked once per submission, before the write transaction.
/// </summary>
public interface IQuotaPolicyProvider
{
    Task<QuotaLimits> GetLimitsAsync(string userId, CancellationToken cancellationToken = default);
}

/// <summary>Defaults from <c>Quotas</c>/<c>Generation</c>, overridden field by field by the user's <see cref="Data.Entities.QuotaPolicy"/> row.</summary>
public sealed class QuotaPolicyProvider(
    IDbContextFactory<ApplicationDbContext> dbFactory,
    IOptions<QuotaOptions> quotas,
    IOptions<GenerationOptions> generation) : IQuotaPolicyProvider
{
    public async Task<QuotaLimits> GetLimitsAsync(string userId, CancellationToken cancellationToken = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var policy = await db.QuotaPolicies.AsNoTracking().SingleOrDefaultAsync(q => q.UserId == userId, cancellationToken);
        return new QuotaLimits(
            policy?.ImagesPerDay ?? quotas.Value.ImagesPerDay,
            policy?.MaxQueuedJobs ?? generation.Value.MaxQueuedJobsPerUser);
    }
}
