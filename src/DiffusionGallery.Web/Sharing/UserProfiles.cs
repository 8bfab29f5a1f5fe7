using DiffusionGallery.Web.Data;
using DiffusionGallery.Web.Data.Entities;
using Microsoft.EntityFrameworkCore;

namespace DiffusionGallery.Web.Sharing;

/// <summary>A user's public identity: the handle (unique, with a generated default), display name and default visibility.</summary>
public sealed record PublicProfile(string UserId, string Handle, string? DisplayName, ImageVisibility DefaultVisibility)
{
    public CreatorDto ToCreator() => UserProfiles.Creator(Handle, DisplayName);
}

public sealed class UserProfiles(IDbContextFactory<ApplicationDbContext> dbFactory, ILogger<UserProfiles> logger)
{
    public static CreatorDto Creator(string? handle, string? displayName)
    {
        var h = handle ?? "unknown";
        return new CreatorDto(h, string.IsNullOrWhiteSpace(displayName) ? h : displayName, SharingUrls.Profile(h));
    }

    public static CreatorDto Creator(ApplicationUser? owner) => Creator(owner?.Handle, owner?.DisplayName);

    /// <summary>Gives the user a generated handle if they have none yet; returns their profile.</summary>
    public async Task<PublicProfile> EnsureHandleAsync(string userId, CancellationToken cancellationToken = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var user = await db.Users.SingleAsync(u => u.Id == userId, cancellationToken);
        if (user.Handle is null)
        {
            user.Handle = await FreeGeneratedHandleAsync(db, cancellationToken);
            await db.SaveChangesAsync(cancellationToken);
            logger.LogInformation("User {UserId} got the generated handle {Handle}", userId, user.Handle);
        }
        return new PublicProfile(user.Id, user.Handle, user.DisplayName, user.DefaultVisibility);
    }

    /// <summary>Sets handle (blank: keep or generate), display name and default visibility; throws <see cref="SharingException"/> (400) for a bad or taken handle.</summary>
    public async Task<PublicProfile> UpdateAsync(string userId, string? handle, string? displayName, ImageVisibility? defaultVisibility, CancellationToken cancellationToken = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var user = await db.Users.SingleAsync(u => u.Id == userId, cancellationToken);
        await ApplyAsync(db, user, handle, displayName, cancellationToken);
        if (defaultVisibility is { } visibility)
        {
            if (!Enum.IsDefined(visibility)) throw SharingException.Invalid("defaultVisibility", "Visibility must be Private, Unlisted or Public.");
            user.DefaultVisibility = visibility;
        }
        try
        {
            await db.SaveChangesAsync(cancellationToken);
        }
        catch (DbUpdateException)
        {
            throw SharingException.Invalid("handle", $"The handle '{user.Handle}' is taken.");
        }
        return new PublicProfile(user.Id, user.Handle!, user.DisplayName, user.DefaultVisibility);
    }

    /// <summary>For registration: validates and sets handle (or a generated one) and display name on a user not saved yet.</summary>
    public async Task ApplyToNewUserAsync(ApplicationUser user, string? handle, string? displayName, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(user);
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        await ApplyAsync(db, user, handle, displayName, cancellationToken);
    }

    /// <summary>Null when the handle is free and valid, else the message for the user.</summary>
    public async Task<string?> CheckHandleAsync(string? handle, string? exceptUserId = null, CancellationToken cancellationToken = default)
    {
        var normalized = Handles.Normalize(handle);
        if (Handles.Validate(normalized) is { } error) return error;
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        return await db.Users.AnyAsync(u => u.Handle == normalized && u.Id != exceptUserId, cancellationToken) ? $"The handle '{normalized}' is taken." : null;
    }

    public async Task<PublicProfile?> FindByHandleAsync(string? handle, CancellationToken cancellationToken = default)
    {
        var normalized = Handles.Normalize(handle);
        if (normalized is null || normalized.Length > Handles.MaxLength) return null;
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        return await db.Users.AsNoTracking().Where(u => u.Handle == normalized)
            .Select(u => new PublicProfile(u.Id, u.Handle!, u.DisplayName, u.DefaultVisibility)).SingleOrDefaultAsync(cancellationToken);
    }

    public async Task<PublicProfile?> GetAsync(string userId, CancellationToken cancellationToken = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        return await db.Users.AsNoTracking().Where(u => u.Id == userId)
            .Select(u => new PublicProfile(u.Id, u.Handle ?? "", u.DisplayName, u.DefaultVisibility)).SingleOrDefaultAsync(cancellationToken);
    }

    private async Task ApplyAsync(ApplicationDbContext db, ApplicationUser user, string? handle, string? displayName, CancellationToken cancellationToken)
    {
        var normalized = Handles.Normalize(handle);
        if (normalized is not null && normalized != user.Handle)
        {
            if (await CheckHandleAsync(normalized, user.Id, cancellationToken) is { } error) throw SharingException.Invalid("handle", error);
            user.Handle = normalized;
        }
        user.Handle ??= await FreeGeneratedHandleAsync(db, cancellationToken);
        if (displayName is not null) user.DisplayName = Handles.CleanDisplayName(displayName);
    }

    private static async Task<string> FreeGeneratedHandleAsync(ApplicationDbContext db, CancellationToken cancellationToken)
    {
        for (var attempt = 0; ; attempt++)
        {
            var candidate = Handles.Generate();
            if (attempt >= 20) candidate = $"user-{ShareTokens.New()[..10].ToLowerInvariant().Replace('_', '-')}";
            if (!await db.Users.AnyAsync(u => u.Handle == candidate, cancellationToken)) return candidate;
        }
    }
}
