using DiffusionGallery.Web.Accounts;
using DiffusionGallery.Web.Accounts.Sessions;
using DiffusionGallery.Web.Components.Account;
using DiffusionGallery.Web.Data;
using DiffusionGallery.Web.Options;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Components.Authorization;
using Microsoft.AspNetCore.Identity;
using Microsoft.Extensions.Options;

namespace Microsoft.Extensions.Hosting;

public static class AccountExtensions
{
    /// <summary>Identity with roles, lockout, the password policy, cookies for the UI and personal access tokens for clients.</summary>
    public static IHostApplicationBuilder AddAccounts(this IHostApplicationBuilder builder)
    {
        var services = builder.Services;

        services.AddCascadingAuthenticationState();
        services.AddScoped<IdentityRedirectManager>();
        services.AddScoped<AuthenticationStateProvider, SessionRevalidatingAuthenticationStateProvider>();

        services.AddAuthentication(options =>
            {
                options.DefaultScheme = IdentityConstants.ApplicationScheme;
                options.DefaultSignInScheme = IdentityConstants.ExternalScheme;
            })
            .AddIdentityCookies();
        services.AddAuthentication().AddScheme<AuthenticationSchemeOptions, PersonalAccessTokenHandler>(PersonalAccessTokenHandler.SchemeName, null);

        services.AddAuthorizationBuilder()
            .AddPolicy(AuthPolicies.Api, policy => policy
                .AddAuthenticationSchemes(IdentityConstants.ApplicationScheme, PersonalAccessTokenHandler.SchemeName)
                .RequireAuthenticatedUser());

        services.ConfigureApplicationCookie(cookie =>
        {
            cookie.Cookie.HttpOnly = true;
            cookie.Cookie.SameSite = SameSiteMode.Lax;
            cookie.Events.OnRedirectToLogin = context => RedirectOrStatus(context, StatusCodes.Status401Unauthorized);
            cookie.Events.OnRedirectToAccessDenied = context => RedirectOrStatus(context, StatusCodes.Status403Forbidden);
        });

        services.AddOptions<IdentityOptions>().Configure<IOptions<AuthOptions>>((options, authOptions) =>
        {
            var auth = authOptions.Value;
            options.SignIn.RequireConfirmedAccount = auth.RequireConfirmedEmail;
            options.SignIn.RequireConfirmedEmail = auth.RequireConfirmedEmail;
            options.Stores.SchemaVersion = IdentitySchemaVersions.Version3;
            options.User.RequireUniqueEmail = true;
            options.Password.RequiredLength = auth.MinPasswordLength;
            options.Password.RequireDigit = false;
            options.Password.RequireLowercase = false;
            options.Password.RequireUppercase = false;
            options.Password.RequireNonAlphanumeric = false;
            options.Password.RequiredUniqueChars = 1;
            options.Lockout.AllowedForNewUsers = true;
            options.Lockout.MaxFailedAccessAttempts = auth.MaxFailedAccessAttempts;
            options.Lockout.DefaultLockoutTimeSpan = TimeSpan.FromMinutes(auth.LockoutMinutes);
        });
        services.AddIdentityCore<ApplicationUser>()
            .AddRoles<IdentityRole>()
            .AddEntityFrameworkStores<ApplicationDbContext>()
            .AddSignInManager()
            .AddDefaultTokenProviders();

        services.AddSingleton<PersonalAccessTokenService>();
        services.AddScoped<AccountRoles>();
        services.AddSingleton<CircuitRegistry>();
        services.AddScoped<Microsoft.AspNetCore.Components.Server.Circuits.CircuitHandler, PerUserCircuitLimiter>();

        // Who is asking: one scoped implementation for requests, hub invocations (CurrentUserHubFilter, added per hub)
        // and circuits (CurrentUserCircuitHandler).
        services.AddHttpContextAccessor();
        services.AddScoped<CurrentUser>();
        services.AddScoped<ICurrentUser>(sp => sp.GetRequiredService<CurrentUser>());
        services.AddScoped<Microsoft.AspNetCore.Components.Server.Circuits.CircuitHandler, CurrentUserCircuitHandler>();
        return builder;
    }

    /// <summary>Identity's extra endpoints for the Razor account pages (sign-out, passkeys, personal data download).</summary>
    public static WebApplication MapAccounts(this WebApplication app)
    {
        app.MapAdditionalIdentityEndpoints();
        app.MapTokensApi();
        return app;
    }

    private static Task RedirectOrStatus(RedirectContext<Microsoft.AspNetCore.Authentication.Cookies.CookieAuthenticationOptions> context, int status)
    {
        var path = context.Request.Path;
        if (path.StartsWithSegments("/api") || path.StartsWithSegments("/images") || path.StartsWithSegments("/hubs"))
        {
            context.Response.StatusCode = status;
            return Task.CompletedTask;
        }
        context.Response.Redirect(context.RedirectUri);
        return Task.CompletedTask;
    }
}
