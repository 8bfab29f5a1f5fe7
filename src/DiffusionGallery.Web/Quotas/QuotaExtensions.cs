using DiffusionGallery.Web.Quotas;

namespace Microsoft.Extensions.Hosting;

public static class QuotaExtensions
{
    /// <summary>Quota accounting and the policy seam (<see cref="IQuotaPolicyProvider"/>; replace it to layer role or per-user quotas).</summary>
    public static IHostApplicationBuilder AddQuotas(this IHostApplicationBuilder builder)
    {
        builder.Services.AddSingleton<IQuotaPolicyProvider, QuotaPolicyProvider>();
        builder.Services.AddSingleton<QuotaService>();
        return builder;
    }
}
