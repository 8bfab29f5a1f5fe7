using System.Security.Cryptography;

namespace DiffusionGallery.Web.Security;

/// <summary>
/// The Content-Security-Policy of every response, with a fresh script nonce per request for the one inline script
/// Blazor needs (the import map). What each source is for:
/// <list type="bullet">
/// <item>script-src 'self' + nonce: blazor.web.js, MudBlazor.min.js, app.js, the passkey module; the import map. No eval.</item>
/// <item>style-src 'self' 'unsafe-inline': MudBlazor writes style attributes and a theme &lt;style&gt; element at run time.
/// Styles cannot run code; scripts stay strict.</item>
/// <item>img-src 'self' data: blob:: image files and thumbnails are same-origin; live previews are data: URLs.</item>
/// <item>connect-src 'self': the circuit's and hub's WebSocket (same origin) and the passkey fetches.</item>
/// </list>
/// </summary>
public static class ContentSecurityPolicy
{
    private static readonly object NonceKey = new();

    public static string Build(string nonce) =>
        "default-src 'self'; " +
        $"script-src 'self' 'nonce-{nonce}'; " +
        "style-src 'self' 'unsafe-inline'; " +
        "img-src 'self' data: blob:; " +
        "font-src 'self' data:; " +
        "connect-src 'self'; " +
        "object-src 'none'; " +
        "base-uri 'self'; " +
        "form-action 'self'; " +
        "frame-ancestors 'none'";

    /// <summary>The nonce of this response's policy (for <c>&lt;ImportMap nonce=…&gt;</c>).</summary>
    public static string GetCspNonce(this HttpContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        if (context.Items.TryGetValue(NonceKey, out var existing) && existing is string nonce) return nonce;
        nonce = Convert.ToBase64String(RandomNumberGenerator.GetBytes(18)).Replace('+', '-').Replace('/', '_');
        context.Items[NonceKey] = nonce;
        return nonce;
    }

    /// <summary>Sets the policy and the other response headers on every response.</summary>
    public static IApplicationBuilder UseSecurityHeaders(this IApplicationBuilder app) => app.Use((context, next) =>
    {
        var headers = context.Response.Headers;
        headers.ContentSecurityPolicy = Build(context.GetCspNonce());
        headers.XContentTypeOptions = "nosniff";
        headers.XFrameOptions = "DENY";
        headers["Referrer-Policy"] = "same-origin";
        headers["Cross-Origin-Opener-Policy"] = "same-origin";
        return next(context);
    });
}
