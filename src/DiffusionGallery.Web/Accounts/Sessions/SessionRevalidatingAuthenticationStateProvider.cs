using System.Security.Claims;
using Microsoft.AspNetCore.Components.Authorization;
using Microsoft.AspNetCore.Components.Server;
using Microsoft.Extensions.Options;

namespace DiffusionGallery.Web.Accounts.Sessions;

/// <summary>
/// Re-checks the signed-in user of a Blazor circuit every <see cref="SessionGuardOptions.RevalidationSeconds"/> with the
/// same <see cref="SessionValidator"/> as the hub; when the session has ended the circuit becomes anonymous and its
/// page's authorization sends the browser to sign-in.
/// </summary>
internal sealed class SessionRevalidatingAuthenticationStateProvider(
    ILoggerFactory loggerFactory,
    SessionValidator validator,
    IOptions<SessionGuardOptions> options)
    : RevalidatingServerAuthenticationStateProvider(loggerFactory)
{
    private readonly ILogger _logger = loggerFactory.CreateLogger<SessionRevalidatingAuthenticationStateProvider>();

    protected override TimeSpan RevalidationInterval => options.Value.RevalidationInterval;

    protected override async Task<bool> ValidateAuthenticationStateAsync(AuthenticationState authenticationState, CancellationToken cancellationToken)
    {
        var reason = await validator.FindEndReasonAsync(authenticationState.User, cancellationToken);
        if (reason is not null)
            _logger.LogInformation("Ended the circuit session of user {UserId}: {Reason}",
                authenticationState.User.FindFirstValue(ClaimTypes.NameIdentifier), reason);
        return reason is null;
    }
}
