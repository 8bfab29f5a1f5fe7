using System.Security.Claims;
using DiffusionGallery.Web.Accounts;

namespace DiffusionGallery.Web.Sharing;

/// <summary>Who is looking: a signed-in user (maybe an admin) or an anonymous visitor.</summary>
public sealed record Viewer(string? UserId, bool IsAdmin)
{
    public static readonly Viewer Anonymous = new(null, false);

    public bool IsSignedIn => UserId is not null;

    public static Viewer From(ICurrentUser user)
    {
        ArgumentNullException.ThrowIfNull(user);
        return user.UserId is { } id ? new Viewer(id, user.IsInRole(AccountRoles.Admin)) : Anonymous;
    }

    public static Viewer From(ClaimsPrincipal? user) =>
        user?.FindFirstValue(ClaimTypes.NameIdentifier) is { } id ? new Viewer(id, user.IsInRole(AccountRoles.Admin)) : Anonymous;
}

public static class ViewerExtensions
{
    /// <summary>The viewer of a Blazor page (prerendered or interactive).</summary>
    public static async Task<Viewer> GetViewerAsync(this Microsoft.AspNetCore.Components.Authorization.AuthenticationStateProvider authentication)
    {
        ArgumentNullException.ThrowIfNull(authentication);
        return Viewer.From((await authentication.GetAuthenticationStateAsync()).User);
    }
}
