using System.Security.Claims;
using System.Text;
using System.Text.Encodings.Web;
using DiffusionGallery.Web.Accounts;
using DiffusionGallery.Web.Data;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Identity;
using Microsoft.Extensions.Options;

namespace DiffusionGallery.Web.A1111;

/// <summary>
/// What A1111 clients send: HTTP Basic (<c>--api-auth</c>) where the user name is the account's handle (the public
/// name people see, <c>/u/{handle}</c>, with or without "@") or its e-mail, and the password one of its personal access
/// tokens (never the account password), or <c>Bearer dgp_…</c>. (Identity's UserName is the e-mail address here, so the
/// handle is the only other name a user knows.)
/// No cookie, so a browser page on another site cannot drive this API with the visitor's session.
/// </summary>
public sealed class A1111AuthenticationHandler(
    IOptionsMonitor<AuthenticationSchemeOptions> options,
    ILoggerFactory loggerFactory,
    UrlEncoder encoder,
    PersonalAccessTokenService tokens,
    UserManager<ApplicationUser> users,
    IUserClaimsPrincipalFactory<ApplicationUser> principalFactory)
    : AuthenticationHandler<AuthenticationSchemeOptions>(options, loggerFactory, encoder)
{
    public const string SchemeName = "A1111";
    public const string PolicyName = "A1111";

    protected override async Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        var header = Request.Headers.Authorization.ToString();
        string? name = null, secret;
        if (header.StartsWith("Basic ", StringComparison.OrdinalIgnoreCase))
        {
            if (!TryDecodeBasic(header["Basic ".Length..].Trim(), out name, out secret))
                return AuthenticateResult.Fail("Malformed Basic credentials.");
        }
        else if (header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase))
        {
            secret = header["Bearer ".Length..].Trim();
        }
        else
        {
            return AuthenticateResult.NoResult();
        }

        var token = await tokens.FindActiveAsync(secret, Context.RequestAborted);
        if (token?.User is not { } user || await users.IsLockedOutAsync(user)
            || (name is not null && !Names(user).Contains(name.Trim(), StringComparer.OrdinalIgnoreCase)))
        {
            Logger.LogWarning("Refused A1111 API credentials: unknown, revoked or locked-out token, or a user name that is not the token's owner");
            return AuthenticateResult.Fail("Incorrect username or password");
        }
        return AuthenticateResult.Success(await PersonalAccessTokenHandler.CreateTicketAsync(principalFactory, token, user, SchemeName));
    }

    /// <summary>What a user may type as the Basic user name: the handle (also as "@handle"), the e-mail, Identity's user name.</summary>
    private static IEnumerable<string> Names(ApplicationUser user)
    {
        if (!string.IsNullOrEmpty(user.Handle))
        {
            yield return user.Handle;
            yield return "@" + user.Handle;
        }
        if (user.Email is { } email) yield return email;
        if (user.UserName is { } userName) yield return userName;
    }

    internal static bool TryDecodeBasic(string encoded, out string name, out string secret)
    {
        name = secret = "";
        if (encoded.Length is 0 or > 2048) return false;
        var buffer = new byte[encoded.Length];
        if (!Convert.TryFromBase64String(encoded, buffer, out var written)) return false;
        var text = Encoding.UTF8.GetString(buffer, 0, written);
        var colon = text.IndexOf(':');
        if (colon <= 0) return false;
        (name, secret) = (text[..colon], text[(colon + 1)..]);
        return secret.Length > 0;
    }

    protected override async Task HandleChallengeAsync(AuthenticationProperties properties)
    {
        Response.StatusCode = StatusCodes.Status401Unauthorized;
        Response.Headers.WWWAuthenticate = "Basic realm=\"DiffusionGallery\"";
        await Response.WriteAsJsonAsync(new { detail = Request.Headers.Authorization.Count == 0 ? "Not authenticated" : "Incorrect username or password" }, A1111Json.Options);
    }

    protected override async Task HandleForbiddenAsync(AuthenticationProperties properties)
    {
        Response.StatusCode = StatusCodes.Status403Forbidden;
        await Response.WriteAsJsonAsync(new { detail = "Forbidden" }, A1111Json.Options);
    }
}
