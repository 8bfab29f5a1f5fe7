using DiffusionGallery.Web.Data;
using DiffusionGallery.Web.Data.Entities;
using Microsoft.EntityFrameworkCore;

namespace DiffusionGallery.Web.Sharing;

public sealed record LikeStateDto(Guid ImageId, bool Liked, int Likes);

/// <summary>One like per user per image, on images the user may see by id (their own or Public ones); the count lives on the image.</summary>
public sealed class LikeService(IDbContextFactory<ApplicationDbContext> dbFactory, ImageAccess access, TimeProvider time)
{
    /// <summary>Null when the viewer may not see the image by id.</summary>
    public async Task<LikeStateDto?> SetAsync(Guid imageId, Viewer viewer, bool like, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(viewer);
        var userId = viewer.UserId ?? throw new SharingException(StatusCodes.Status401Unauthorized, "Sign in to like images.");
        if (await access.ByIdAsync(imageId, viewer, cancellationToken) is null) return null;
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
