using System.Security.Claims;
using DiffusionGallery.Web.Data;
using Microsoft.EntityFrameworkCore;

namespace DiffusionGallery.Web.Accounts.Sessions;

/// <summary>Decides whether a signed-in principal may still act: its account exists and every <see cref="ISessionCheck"/> agrees.</summary>
public sealed class SessionValidator(IDbContextFactory<ApplicationDbContext> dbFactory, IEnumerable<ISessionCheck> checks)
{
    public const string AccountDeleted = "the account was deleted";

    /// <returns>Null while the session may go on (anonymous principals always may); otherwise why it ended.</returns>
    public async Task<string?> FindEndReasonAsync(ClaimsPrincipal principal, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(principal);
        if (principal.Identity?.IsAuthenticated != true) return null;
        var userId = principal.FindFirstValue(ClaimTypes.NameIdentifier);
        if (userId is null) return AccountDeleted;

        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var user = await db.Users.AsNoTracking().SingleOrDefaultAsync(u => u.Id == userId, cancellationToken);
        if (user is null) return AccountDeleted;
        var subject = new SessionSubject(principal, user, db);
        foreach (var check in checks)
        {
            if (await check.FindEndReasonAsync(subject, cancellationToken) is { } reason) return reason;
        }
        return null;
    }
}
