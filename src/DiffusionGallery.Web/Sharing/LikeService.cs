using DiffusionGallery.Web.Data;
using DiffusionGallery.Web.Data.Entities;
using Microsoft.EntityFrameworkCore;

namespace DiffusionGallery.Web.Sharing;

public sealed record LikeStateDto(Guid ImageId, bool Liked, int Likes);

/// <summary>One like per user per image, on images the user may see by id (their own or Public ones) or through a share
/// link they hold (an Unlisted image); the count lives on the image. A like never lists an image anywhere: the "Liked"
/// tab shows Public images only.</summary>
public sealed class LikeService(IDbContextFactory<ApplicationDbContext> dbFactory, ImageAccess access, TimeProvider time)
{
    /// <summary>Null when the viewer may not see the image by id.</summary>
    public async Task<LikeStateDto?> SetAsync(Guid imageId, Viewer viewer, bool like, CancellationToken cancellationToken = default)
    {
        var userId = SignedIn(viewer);
        if (await access.ByIdAsync(imageId, viewer, cancellationToken) is null) return null;
        return await SetCoreAsync(imageId, userId, like, cancellationToken);
    }

    /// <summary>Likes the image a share link opens (how a signed-in viewer likes an Unlisted image); null when the link
    /// is not (or no longer) valid.</summary>
    public async Task<LikeStateDto?> SetByShareTokenAsync(string? shareToken, Viewer viewer, bool like, CancellationToken cancellationToken = default)
    {
        var userId = SignedIn(viewer);
        if (await access.ByShareTokenAsync(shareToken, viewer, cancellationToken) is not { } grant) return null;
        return await SetCoreAsync(grant.Image.Id, userId, like, cancellationToken);
    }

    private static string SignedIn(Viewer viewer)
    {
        ArgumentNullException.ThrowIfNull(viewer);
        return viewer.UserId ?? throw new SharingException(StatusCodes.Status401Unauthorized, "Sign in to like images.");
    }

    private async Task<LikeStateDto> SetCoreAsync(Guid imageId, string userId, bool like, CancellationToken cancellationToken)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        var exists = await db.Likes.AnyAsync(l => l.UserId == userId && l.ImageId == imageId, cancellationToken);
        if (like && !exists)
        {
            db.Likes.Add(new Like { UserId = userId, ImageId = imageId, CreatedAt = time.GetUtcNow() });
            await db.SaveChangesAsync(cancellationToken);
        }
        else if (!like && exists)
        {
            await db.Likes.Where(l => l.UserId == userId && l.ImageId == imageId).ExecuteDeleteAsync(cancellationToken);
        }
        if (like != exists)
        {
            var count = await db.Likes.CountAsync(l => l.ImageId == imageId, cancellationToken);
            await db.GeneratedImages.Where(i => i.Id == imageId).ExecuteUpdateAsync(u => u.SetProperty(i => i.LikeCount, count), cancellationToken);
        }
        await transaction.CommitAsync(cancellationToken);
        var likes = await db.GeneratedImages.Where(i => i.Id == imageId).Select(i => i.LikeCount).SingleAsync(cancellationToken);
        return new LikeStateDto(imageId, like, likes);
    }
}
