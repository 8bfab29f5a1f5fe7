using DiffusionGallery.Web.Quotas;

namespace Microsoft.Extensions.Hosting;

public static class QuotaExtensions
{
    /// <summary>
    /// Quota accounting (<see cref="QuotaService"/>, the usage ledger) and the layered policy behind the
    /// <see cref="IQuotaPolicyProvider"/> seam: <c>Quotas</c> defaults → role layers → the admin's per-user override.
    /// </summary>
    public static IHostApplicationBuilder AddQuotas(this IHostApplicationBuilder builder)
    {
        var services = builder.Services;
        services.AddSingleton<QuotaClock>();
        services.AddSingleton<UsageQueries>();
        services.AddSingleton<EffectiveQuotaResolver>();
        services.AddSingleton<IQuotaPolicyProvider>(sp => sp.GetRequiredService<EffectiveQuotaResolver>());
        services.AddSingleton<JobCostEstimator>();
        services.AddSingleton<QuotaService>();
        return builder;
    }
}
