using System.Security.Claims;
using DiffusionGallery.Web.Data;

namespace DiffusionGallery.Web.Accounts.Sessions;

/// <summary>What a check sees: the principal of an open circuit, hub connection or request, and its account as stored now.</summary>
/// <param name="Database">A context the check may query (read only).</param>
public sealed record SessionSubject(ClaimsPrincipal Principal, ApplicationUser User, ApplicationDbContext Database);

/// <summary>
/// One reason a signed-in session may no longer act. Every registered check runs for every open circuit and hub
/// connection each <see cref="SessionGuardOptions.RevalidationSeconds"/> and before each hub call; a new reason (an account
/// disabled by an admin, say) is one class and one <c>services.AddSessionCheck&lt;T&gt;()</c> line.
/// </summary>
public interface ISessionCheck
{
    /// <returns>Null while the session may go on; otherwise why it ended, for the log and the client's message.</returns>
    ValueTask<string?> FindEndReasonAsync(SessionSubject subject, CancellationToken cancellationToken);
}
