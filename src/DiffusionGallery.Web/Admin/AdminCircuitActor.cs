using System.Security.Claims;
using Microsoft.AspNetCore.Components.Authorization;

namespace DiffusionGallery.Web.Admin;

/// <summary>
/// For admin pages: the signed-in principal of this circuit and where it connected from (captured best-effort from
/// the request that opened the circuit), for the service's role re-check and the audit log.
/// </summary>
public sealed class AdminCircuitActor(AuthenticationStateProvider authentication, IHttpContextAccessor http)
{
    private string? _ip, _agent;

    public async Task<(ClaimsPrincipal User, AuditActor Who)> GetAsync()
    {
        var user = (await authentication.GetAuthenticationStateAsync()).User;
        if (http.HttpContext is { } context)
        {
            _ip ??= context.Connection.RemoteIpAddress?.ToString();
            _agent ??= context.Request.Headers.UserAgent.ToString();
        }
        var who = AuditActor.From(user, null) with { IpAddress = _ip, UserAgent = string.IsNullOrEmpty(_agent) ? "admin page" : _agent };
        return (user, who);
    }
}
