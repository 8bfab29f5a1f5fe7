using System.Security.Claims;
using DiffusionGallery.Web.Accounts;
using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace DiffusionGallery.Web.Accounts.Sessions;

/// <summary>
/// A cookie session ends when the account's security stamp changes: sign-out (anywhere), password change, and
/// whatever else Identity rotates the stamp for. Token sessions are governed by their token instead.
/// </summary>
public sealed class SecurityStampCheck(IOptions<IdentityOptions> identity) : ISessionCheck
{
    public ValueTask<string?> FindEndReasonAsync(SessionSubject subject, CancellationToken cancellationToken)
    {
        if (subject.Principal.HasClaim(c => c.Type == PersonalAccessTokenHandler.TokenIdClaim)) return ValueTask.FromResult<string?>(null);
        var stamp = subject.Principal.FindFirstValue(identity.Value.ClaimsIdentity.SecurityStampClaimType);
        return ValueTask.FromResult(stamp == subject.User.SecurityStamp ? null : "you signed out or changed your password");
    }
}

/// <summary>A personal-access-token session ends when that token is revoked (or deleted with its account).</summary>
public sealed class AccessTokenCheck : ISessionCheck
{
    public async ValueTask<string?> FindEndReasonAsync(SessionSubject subject, CancellationToken cancellationToken)
    {
        var claim = subject.Principal.FindFirstValue(PersonalAccessTokenHandler.TokenIdClaim);
        if (claim is null) return null;
        if (!Guid.TryParse(claim, out var tokenId)) return "the access token is not valid";
        var active = await subject.Database.PersonalAccessTokens
            .AnyAsync(t => t.Id == tokenId && t.UserId == subject.User.Id && t.RevokedAt == null, cancellationToken);
        return active ? null : "the access token was revoked";
    }
}
