using System.Security.Claims;
using System.Text.Encodings.Web;
using DiffusionGallery.Web.Data;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Identity;
using Microsoft.Extensions.Options;

namespace DiffusionGallery.Web.Accounts;

/// <summary>Authenticates "Authorization: Bearer dgp_…" (and, for the hub's WebSocket, the access_token query value).</summary>
public sealed class PersonalAccessTokenHandler(
    IOptionsMonitor<AuthenticationSchemeOptions> options,
    ILoggerFactory loggerFactory,
    UrlEncoder encoder,
    PersonalAccessTokenService tokens,
    UserManager<ApplicationUser> users,
    IUserClaimsPrincipalFactory<ApplicationUser> principalFactory)
    : AuthenticationHandler<AuthenticationSchemeOptions>(options, loggerFactory, encoder)
{
    public const string SchemeName = "PersonalAccessToken";

    protected override async Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        string? secret = null;
        var header = Request.Headers.Authorization.ToString();
        if (header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase))
            secret = header["Bearer ".Length..].Trim();
        else if (Request.Path.StartsWithSegments("/hubs") && Request.Query.TryGetValue("access_token", out var fromQuery))
            secret = fromQuery.ToString();
        if (string.IsNullOrEmpty(secret)) return AuthenticateResult.NoResult();

        var user = await tokens.ValidateAsync(secret, Context.RequestAborted);
        if (user is null || await users.IsLockedOutAsync(user))
        {
            Logger.LogWarning("Refused an unknown, revoked or locked-out personal access token");
            return AuthenticateResult.Fail("Invalid or revoked token.");
        }
        var principal = await principalFactory.CreateAsync(user);
        var identity = new ClaimsIdentity(principal.Claims, SchemeName);
        return AuthenticateResult.Success(new AuthenticationTicket(new ClaimsPrincipal(identity), SchemeName));
    }
}
