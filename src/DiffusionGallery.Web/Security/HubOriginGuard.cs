using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.AspNetCore.Identity;
using Microsoft.Extensions.Options;

namespace DiffusionGallery.Web.Security;

/// <summary>
/// Cross-site WebSocket hijacking guard: a request to /hubs that carries the sign-in cookie must come from a page of
/// this site (its <c>Origin</c>, when sent, names this host), otherwise 403. Token clients (no cookie) are unaffected.
/// </summary>
public static class HubOriginGuard
{
    public static IApplicationBuilder UseHubOriginGuard(this IApplicationBuilder app) => app.Use(async (context, next) =>
    {
        if (context.Request.Path.StartsWithSegments("/hubs") && IsForeignWithCookie(context))
        {
            context.RequestServices.GetRequiredService<ILoggerFactory>().CreateLogger(typeof(HubOriginGuard))
                .LogWarning("Refused a cookie-authenticated hub request from foreign origin {Origin}", context.Request.Headers.Origin.ToString());
            context.Response.StatusCode = StatusCodes.Status403Forbidden;
            await context.Response.WriteAsync("Cross-origin requests with the sign-in cookie are not allowed.");
            return;
        }
        await next(context);
    });

    internal static bool IsForeignWithCookie(HttpContext context)
    {
        var origin = context.Request.Headers.Origin.ToString();
        if (string.IsNullOrEmpty(origin)) return false;
        var cookieName = context.RequestServices.GetRequiredService<IOptionsMonitor<CookieAuthenticationOptions>>()
            .Get(IdentityConstants.ApplicationScheme).Cookie.Name ?? ".AspNetCore.Identity.Application";
        if (!context.Request.Cookies.Keys.Any(k => k.StartsWith(cookieName, StringComparison.Ordinal))) return false;
        return !IsSameHost(origin, context.Request.Host);
    }

    /// <summary>Compares host and port only, so TLS terminated by a reverse proxy does not look foreign.</summary>
    internal static bool IsSameHost(string origin, HostString host) =>
        Uri.TryCreate(origin, UriKind.Absolute, out var uri)
        && string.Equals(uri.IsDefaultPort ? uri.Host : uri.Authority, host.Port is 80 or 443 ? host.Host : host.Value, StringComparison.OrdinalIgnoreCase);
}
