using DiffusionGallery.Web.Data;
using DiffusionGallery.Web.Data.Entities;
using Microsoft.EntityFrameworkCore;

namespace DiffusionGallery.Web.Sharing;

/// <summary>An owner's sharing switches on their images: visibility, share link, hidden prompt, remix permission.</summary>
public sealed class SharingService(IDbContextFactory<ApplicationDbContext> dbFactory, UserProfiles profiles, ILogger<SharingService> logger)
{
    public const int MaxBatch = 500;

    /// <summary>Applies any subset of the switches to one of the owner's images; null when it is not theirs.</summary>
    public async Task<OwnImageSharingDto?> PatchAsync(string ownerId, Guid imageId, ImageSharingPatch patch, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(patch);
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var image = await db.GeneratedImages.SingleOrDefaultAsync(i => i.Id == imageId && i.OwnerId == ownerId, cancellationToken);
        if (image is null) return null;
        if (VisibilityParser.Parse(patch.Visibility) is { } visibility) SetVisibility(image, visibility);
        if (patch.HidePrompt is { } hide) image.HidePrompt = hide;
        if (patch.AllowRemix is { } allow) image.AllowRemix = allow;
        await db.SaveChangesAsync(cancellationToken);
        if (image.Visibility != ImageVisibility.Private) await profiles.EnsureHandleAsync(ownerId, cancellationToken);
        logger.LogInformation("Image {ImageId} sharing set by {UserId}: {Visibility}, hide prompt {HidePrompt}, allow remix {AllowRemix}",
            imageId, ownerId, image.Visibility, image.HidePrompt, image.AllowRemix);
        return await ToDtoAsync(db, image, cancellationToken);
    }

    /// <summary>Sets the visibility of several of the owner's images (the gallery's selection); returns how many were theirs.</summary>
    public async Task<int> SetVisibilityAsync(string ownerId, IReadOnlyCollection<Guid> imageIds, ImageVisibility visibility, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(imageIds);
        if (imageIds.Count > MaxBatch) throw SharingException.Invalid("imageIds", $"At most {MaxBatch} images at once.");
        if (!Enum.IsDefined(visibility)) throw SharingException.Invalid("visibility", "Visibility must be Private, Unlisted or Public.");
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var images = await db.GeneratedImages.Where(i => i.OwnerId == ownerId && imageIds.Contains(i.Id)).ToListAsync(cancellationToken);
        foreach (var image in images) SetVisibility(image, visibility);
        await db.SaveChangesAsync(cancellationToken);
        if (visibility != ImageVisibility.Private && images.Count > 0) await profiles.EnsureHandleAsync(ownerId, cancellationToken);
        return images.Count;
    }

    /// <summary>"New link": a fresh token; the old link answers 404 from now on. Null when the image is not theirs.</summary>
    public async Task<OwnImageSharingDto?> RotateLinkAsync(string ownerId, Guid imageId, CancellationToken cancellationToken = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var image = await db.GeneratedImages.SingleOrDefaultAsync(i => i.Id == imageId && i.OwnerId == ownerId, cancellationToken);
        if (image is null) return null;
        if (image.Visibility == ImageVisibility.Private)
            throw SharingException.Invalid("visibility", "A Private image has no link. Make it Unlisted or Public first.");
        image.ShareToken = ShareTokens.New();
        await db.SaveChangesAsync(cancellationToken);
        logger.LogInformation("Image {ImageId}: share link replaced by {UserId}", imageId, ownerId);
        return await ToDtoAsync(db, image, cancellationToken);
    }

    public async Task<OwnImageSharingDto?> GetAsync(string ownerId, Guid imageId, CancellationToken cancellationToken = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var image = await db.GeneratedImages.AsNoTracking().SingleOrDefaultAsync(i => i.Id == imageId && i.OwnerId == ownerId, cancellationToken);
        return image is null ? null : await ToDtoAsync(db, image, cancellationToken);
    }

    /// <summary>Private kills the link; Unlisted and Public keep the current link or get a first one.</summary>
    public static void SetVisibility(GeneratedImage image, ImageVisibility visibility)
    {
        ArgumentNullException.ThrowIfNull(image);
        image.Visibility = visibility;
        if (visibility == ImageVisibility.Private) image.ShareToken = null;
        else image.ShareToken ??= ShareTokens.New();
    }

    private static async Task<OwnImageSharingDto> ToDtoAsync(ApplicationDbContext db, GeneratedImage image, CancellationToken cancellationToken)
    {
        var remixes = await db.GeneratedImages.CountAsync(c => c.ParentImageId == image.Id, cancellationToken);
        return new OwnImageSharingDto(image.Id, image.Visibility, SharingUrls.Share(image.ShareToken), image.HidePrompt, image.AllowRemix,
            image.LikeCount, remixes, image.Settings.Prompt, image.CreatedAt, $"/images/{image.Id}", $"/images/{image.Id}/thumb");
    }
}
