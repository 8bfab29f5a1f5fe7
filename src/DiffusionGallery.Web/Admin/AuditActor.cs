using System.Security.Claims;

namespace DiffusionGallery.Web.Admin;

/// <summary>Who did something and from where, as recorded in the audit log.</summary>
public sealed record AuditActor(string? UserId, string? Email, string? IpAddress, string? UserAgent)
{
    public static readonly AuditActor System = new(null, "system", null, null);

    public static AuditActor From(ClaimsPrincipal user, HttpContext? http) => new(
        user.FindFirstValue(ClaimTypes.NameIdentifier),
        user.FindFirstValue(ClaimTypes.Email) ?? user.Identity?.Name,
        http?.Connection.RemoteIpAddress?.ToString(),
        http?.Request.Headers.UserAgent.ToString() is { Length: > 0 } agent ? agent : null);
}
