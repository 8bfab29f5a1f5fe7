using DiffusionGallery.Web.Admin;
using DiffusionGallery.Web.Quotas;
using DiffusionGallery.Web.Generation;
using System.Security.Claims;
using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.AspNetCore.Identity;
using Microsoft.AspNetCore.SignalR;
using OpenTelemetry.Metrics;

namespace Microsoft.Extensions.Hosting;

public static class AdminExtensions
{
    /// <summary>Layered quotas, the admin service and API, audit log, disabled-account checks, dashboard and operator metrics.</summary>
    public static IHostApplicationBuilder AddAdmin(this IHostApplicationBuilder builder)
    {
        var services = builder.Services;
        services.AddOptions<MetricsOptions>().BindConfiguration(MetricsOptions.SectionName).ValidateDataAnnotations().ValidateOnStart();


        services.AddSingleton<AuditLog>();
        services.AddSingleton<UsageExport>();
        services.AddSingleton<UsageDashboard>();
        services.AddSingleton<AdminUserService>();
        services.AddHttpContextAccessor();
        services.AddScoped<AdminCircuitActor>();

        services.AddSingleton<DisabledUserAccessCheck>();
        services.AddSingleton<IUserAccessCheck>(sp => sp.GetRequiredService<DisabledUserAccessCheck>());
        services.AddSingleton<UserAccessHubFilter>();
        // Per hub, never global: a global filter runs on Blazor's circuit hub too, and once any global filter exists the
        // per-hub options are rebuilt from the global list, dropping the generation hub's own filters (session guard, current user).
        services.AddSignalR().AddHubOptions<GenerationHub>(hub => hub.AddFilter<UserAccessHubFilter>());
        services.AddHostedService<DisabledUserSweep>();
        services.AddSessionCheck<DisabledAccountSessionCheck>(); // the session guard ends circuits and hub connections of disabled accounts

        services.AddAuthorizationBuilder().AddPolicy(AdminPolicy.Name, AdminPolicy.Configure);
        services.AddOptions<CookieAuthenticationOptions>(IdentityConstants.ApplicationScheme).PostConfigure(AuditSignInsAndOuts);

        services.AddSingleton<GenerationMetrics>();
        services.AddHostedService<JobMetricsSampler>();
        var metrics = builder.Configuration.GetSection(MetricsOptions.SectionName).Get<MetricsOptions>() ?? new MetricsOptions();
        if (metrics.PrometheusEnabled)
        {
            services.AddOpenTelemetry().WithMetrics(meters => meters.AddMeter(GenerationMetrics.MeterName).AddPrometheusExporter());
        }
        return builder;
    }

    /// <summary>Security events in the audit log: every cookie sign-in and sign-out, with the address it came from.</summary>
    private static void AuditSignInsAndOuts(CookieAuthenticationOptions cookie)
    {
        var signedIn = cookie.Events.OnSignedIn;
        cookie.Events.OnSignedIn = async context =>
        {
            await signedIn(context);
            if (context.Principal is { } user)
                await context.HttpContext.RequestServices.GetRequiredService<AuditLog>().RecordAsync(AuditActor.From(user, context.HttpContext),
                    "account.sign-in", "user", user.FindFirstValue(ClaimTypes.NameIdentifier));
        };
        var signingOut = cookie.Events.OnSigningOut;
        cookie.Events.OnSigningOut = async context =>
        {
            await signingOut(context);
            var user = context.HttpContext.User;
            if (user.Identity?.IsAuthenticated == true)
                await context.HttpContext.RequestServices.GetRequiredService<AuditLog>().RecordAsync(AuditActor.From(user, context.HttpContext),
                    "account.sign-out", "user", user.FindFirstValue(ClaimTypes.NameIdentifier));
        };
    }

    /// <summary>/api/admin/… and, when enabled, the Prometheus scrape endpoint for allowed networks only.</summary>
    public static WebApplication MapAdmin(this WebApplication app)
    {
        app.MapAdminApi();
        app.MapQuotaApi();
        var metrics = app.Services.GetRequiredService<Microsoft.Extensions.Options.IOptions<MetricsOptions>>().Value;
        if (metrics.PrometheusEnabled)
        {
            // Anyone outside the allowed networks gets the ordinary 404: the endpoint is not on the public surface.
            app.UseOpenTelemetryPrometheusScrapingEndpoint(context =>
                context.Request.Path == metrics.Path && metrics.Allows(context.Connection.RemoteIpAddress));
        }
        return app;
    }
}
