using System.Collections.Concurrent;
using DiffusionGallery.Web.Data;
using Microsoft.EntityFrameworkCore;

namespace DiffusionGallery.Web.Admin;

/// <summary>
/// "May this account still act?" — false once an admin has disabled it. A small predicate that every surface
/// (submission, hub filter, circuit and token revalidation sweeps) can ask.
/// </summary>
public interface IUserAccessCheck
{
    ValueTask<bool> IsAllowedAsync(string userId, CancellationToken cancellationToken = default);
}

/// <summary>
/// Reads <see cref="ApplicationUser.DisabledAt"/>, cached for at most <see cref="MaxAge"/> (so a change made by
/// another process is seen within it); a change made here through <see cref="Changed"/> is seen at once.
/// </summary>
public sealed class DisabledUserAccessCheck(IDbContextFactory<ApplicationDbContext> dbFactory, TimeProvider time) : IUserAccessCheck
{
    public static readonly TimeSpan MaxAge = TimeSpan.FromSeconds(10);

    private readonly ConcurrentDictionary<string, (bool Allowed, DateTimeOffset CheckedAt)> _cache = new(StringComparer.Ordinal);

    /// <summary>Raised (with the user id) when an account is disabled, so open connections can be cut.</summary>
    public event Action<string>? Disabled;

    public async ValueTask<bool> IsAllowedAsync(string userId, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(userId);
        var now = time.GetUtcNow();
        if (_cache.TryGetValue(userId, out var cached) && now - cached.CheckedAt < MaxAge) return cached.Allowed;
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var state = await db.Users.AsNoTracking().Where(u => u.Id == userId).Select(u => new { u.DisabledAt }).SingleOrDefaultAsync(cancellationToken);
        var allowed = state is not null && state.DisabledAt is null;
        _cache[userId] = (allowed, now);
        return allowed;
    }

    /// <summary>Called by the admin service after it changed an account's status.</summary>
    public void Changed(string userId, bool disabled)
    {
        _cache[userId] = (!disabled, time.GetUtcNow());
        if (disabled) Disabled?.Invoke(userId);
    }
}
