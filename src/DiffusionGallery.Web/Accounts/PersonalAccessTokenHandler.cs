using System.Security.Claims;
using System.Text.Encodings.Web;
using DiffusionGallery.Web.Data;
using DiffusionGallery.Web.Data.Entities;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Identity;
using Microsoft.Extensions.Options;
using Microsoft.Net.Http.Headers;

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

    /// <summary>The id of the token a principal signed in with, so open connections end when it is revoked.</summary>
    public const string TokenIdClaim = "dg:token_id";

    protected override async Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        string? secret = null;
        var header = Request.Headers.Authorization.ToString();
        if (header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase))
            secret = header["Bearer ".Length..].Trim();
        else if (Request.Path.StartsWithSegments("/hubs") && Request.Query.TryGetValue("access_token", out var fromQuery))
            secret = fromQuery.ToString();
        if (string.IsNullOrEmpty(secret)) return AuthenticateResult.NoResult();

        var token = await tokens.FindActiveAsync(secret, Context.RequestAborted);
        if (token?.User is not { } user || await users.IsLockedOutAsync(user))
        {
            Logger.LogWarning("Refused an unknown, revoked or locked-out personal access token");
            return AuthenticateResult.Fail("Invalid or revoked token.");
        }
        return AuthenticateResult.Success(await CreateTicketAsync(principalFactory, token, user, SchemeName));
    }

    /// <summary>The ticket for a request signed in with <paramref name="token"/>: the owner's claims plus the token's id
    /// (<see cref="TokenIdClaim"/>), so that revoking the token ends whatever it opened. Used by every token scheme.</summary>
    public static async Task<AuthenticationTicket> CreateTicketAsync(IUserClaimsPrincipalFactory<ApplicationUser> principalFactory,
        PersonalAccessToken token, ApplicationUser user, string scheme)
    {
        var principal = await principalFactory.CreateAsync(user);
        var identity = new ClaimsIdentity(principal.Claims, scheme);
        identity.AddClaim(new Claim(TokenIdClaim, token.Id.ToString()));
        return new AuthenticationTicket(new ClaimsPrincipal(identity), scheme);
    }

    /// <summary>401 with <c>WWW-Authenticate: Bearer</c> (RFC 6750), so a client learns how to authenticate.</summary>
    protected override async Task HandleChallengeAsync(AuthenticationProperties properties)
    {
        var result = await HandleAuthenticateOnceSafeAsync();
        Response.StatusCode = StatusCodes.Status401Unauthorized;
        Response.Headers.Append(HeaderNames.WWWAuthenticate, result.Failure is null
            ? "Bearer realm=\"DiffusionGallery\""
            : "Bearer realm=\"DiffusionGallery\", error=\"invalid_token\", error_description=\"The access token is unknown or revoked.\"");
    }
}
