namespace DiffusionGallery.Web.Accounts;

/// <summary>
/// Who is asking, the same way for an HTTP request, a hub invocation and a Blazor circuit (a scoped service;
/// see <see cref="CurrentUser"/>).
/// </summary>
public interface ICurrentUser
{
    /// <summary>The signed-in user's id; null when anonymous.</summary>
    string? UserId { get; }

    bool IsAuthenticated { get; }

    bool IsInRole(string role);

    /// <summary>The user id, or <see cref="Errors.SignInRequiredException"/> when anonymous.</summary>
    string RequireUserId();
}
