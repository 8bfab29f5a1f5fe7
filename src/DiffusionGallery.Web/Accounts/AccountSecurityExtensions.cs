using DiffusionGallery.Web.Accounts.Email;
using DiffusionGallery.Web.Accounts.RateLimiting;
using DiffusionGallery.Web.Accounts.Sessions;
using DiffusionGallery.Web.Data;
using DiffusionGallery.Web.Generation;
using Microsoft.AspNetCore.Identity;
using Microsoft.AspNetCore.RateLimiting;
using Microsoft.AspNetCore.SignalR;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace Microsoft.Extensions.Hosting;

public static class AccountSecurityExtensions
{
    /// <summary>
    /// Ending sessions (revoked tokens, sign-out, password change, deleted accounts) on open circuits and hub connections,
    /// the rate limit on account attempts, and account e-mail (SMTP, or .eml files without a host).
    /// </summary>
    public static IHostApplicationBuilder AddAccountSecurity(this IHostApplicationBuilder builder)
    {
        var services = builder.Services;

        services.AddOptions<SessionGuardOptions>().BindConfiguration(SessionGuardOptions.SectionName).ValidateDataAnnotations().ValidateOnStart();
        services.AddSingleton<SessionValidator>();
        services.AddSessionCheck<SecurityStampCheck>();
        services.AddSessionCheck<AccessTokenCheck>();
        services.AddSingleton<OpenHubConnections>();
        services.AddSingleton<SessionGuardHubFilter>();
        services.AddHostedService<SessionSweeper>();
        services.AddSignalR().AddHubOptions<GenerationHub>(hub => hub.AddFilter<SessionGuardHubFilter>());
        // Requests re-check the cookie's security stamp on the same clock as circuits and hub connections.
        services.AddOptions<SecurityStampValidatorOptions>().Configure<IOptions<SessionGuardOptions>>((stamp, sessions) =>
            stamp.ValidationInterval = sessions.Value.RevalidationInterval);

        services.AddOptions<AccountRateLimitOptions>().BindConfiguration(AccountRateLimitOptions.SectionName).ValidateDataAnnotations().ValidateOnStart();
        services.AddRateLimiter(_ => { });
        services.AddOptions<RateLimiterOptions>().Configure<IOptions<AccountRateLimitOptions>>((limiter, limits) =>
            AccountRateLimiting.Configure(limiter, limits.Value));

        services.AddOptions<EmailOptions>().BindConfiguration(EmailOptions.SectionName).ValidateDataAnnotations().ValidateOnStart();
        services.AddSingleton<EmailQueue>();
        services.AddSingleton<IMailTransport>(provider => provider.GetRequiredService<IOptions<EmailOptions>>().Value.UsesSmtp
            ? ActivatorUtilities.CreateInstance<SmtpMailTransport>(provider)
            : ActivatorUtilities.CreateInstance<PickupFolderMailTransport>(provider));
        services.AddHostedService<EmailDispatcher>();
        services.Replace(ServiceDescriptor.Singleton<IEmailSender<ApplicationUser>, IdentityEmailSender>());
        return builder;
    }

    /// <summary>Adds a reason for open sessions to end (e.g. an account disabled by an admin).</summary>
    public static IServiceCollection AddSessionCheck<TCheck>(this IServiceCollection services) where TCheck : class, ISessionCheck
    {
        services.TryAddEnumerable(ServiceDescriptor.Singleton<ISessionCheck, TCheck>());
        return services;
    }

    /// <summary>The rate limiter on account attempts (before the pages read their forms).</summary>
    public static WebApplication UseAccountSecurity(this WebApplication app)
    {
        app.Use(async (context, next) =>
        {
            await AccountAttempt.ReadAsync(context);
            await next(context);
        });
        app.UseRateLimiter();
        return app;
    }
}
