using DiffusionGallery.Web.Accounts.Sessions;

namespace DiffusionGallery.Web.Admin;

/// <summary>
/// Plugs the admin's "disabled" flag into the session guard: open circuits and hub connections of a disabled account
/// end at the guard's next sweep, and every later hub call is refused.
/// </summary>
public sealed class DisabledAccountSessionCheck : ISessionCheck
{
    public ValueTask<string?> FindEndReasonAsync(SessionSubject subject, CancellationToken cancellationToken) =>
        ValueTask.FromResult(subject.User.DisabledAt is null ? null : "an admin disabled your account");
}
