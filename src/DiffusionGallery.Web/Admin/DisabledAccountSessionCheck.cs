using DiffusionGallery.Web.Accounts.Sessions;

namespace DiffusionGallery.Web.Admin;

/// <summary>
/// Plugs the admin's "disabled" flag into the session guard: open circuits and hub connections of a disabled account
/// end at the guard's next sweep, and every later hub call is refused. Each refusal is a security event in the audit log
/// (the guard runs before <see cref="UserAccessHubFilter"/> on the generation hub, so it is the one that sees it).
/// </summary>
public sealed class DisabledAccountSessionCheck(AuditLog audit) : ISessionCheck
{
    public const string Reason = "an admin disabled your account";

    public async ValueTask<string?> FindEndReasonAsync(SessionSubject subject, CancellationToken cancellationToken)
    {
        if (subject.User.DisabledAt is null) return null;
        await audit.RecordAsync(AuditActor.System, "access.refused", "user", subject.User.Id,
            "session ended: account disabled (circuit or hub connection)", CancellationToken.None);
        return Reason;
    }
}
