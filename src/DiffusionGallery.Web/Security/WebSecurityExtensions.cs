using DiffusionGallery.Web.Security;

namespace Microsoft.Extensions.Hosting;

public static class WebSecurityExtensions
{
    /// <summary>Response headers (Content-Security-Policy with a per-request nonce, nosniff, framing, referrer) and the hub's Origin check.</summary>
    public static WebApplication UseWebSecurity(this WebApplication app)
    {
        app.UseSecurityHeaders();
        app.UseHubOriginGuard();
        return app;
    }
}
