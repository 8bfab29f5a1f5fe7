using DiffusionGallery.Web.Data;
using DiffusionGallery.Web.Data.Entities;
using Microsoft.EntityFrameworkCore;

namespace DiffusionGallery.Web.Sharing;

/// <summary>How the viewer reached an image: by its id, through its share link, or through a collection's link.</summary>
public enum ImageRoute { ById, ShareLink, Collection }

/// <summary>
/// What one viewer may do with one image they may see, and where its files are served for them (an Unlisted image's
/// files only under its link, never under <c>/images/{id}</c>).
/// </summary>
public sealed record ImageGrant(GeneratedImage Image, Viewer Viewer, ImageRoute Route, bool IsOwner, bool ShowPrompt, bool MayRemix, string PageUrl, string ImageUrl, string ThumbUrl)
{
    /// <summary>Lineage, likes lists and remix parents use ids: only images the viewer may see by id.</summary>
    public bool VisibleById => ImageAccess.MayView(Image, Viewer, ImageRoute.ById);
}

/// <summary>
/// The one place that answers "may this viewer see this image, its prompt, remix it". Every sharing surface (pages,
/// files, REST, lineage, Explore, collections, remix submissions) asks here.
/// <list type="bullet">
/// <item>Private: its owner (and admins) only. Unlisted: its owner, and anyone holding its share link or a shared
/// collection's link that contains it — never by id, never listed. Public: anyone, and listed in Explore and profiles.</item>
/// <item>Taken down (admin moderation): gone for everyone but admins, its owner included on every public surface
/// (share link, collections, profile, Explore, other people's lineage); the owner still sees it in their own gallery.</item>
/// <item>Hidden prompt: the prompt, negative prompt and settings are shown to the owner and admins only.</item>
/// <item>Remix: the owner always; others when the image allows it and they may see it.</item>
/// </list>
/// </summary>
public sealed class ImageAccess(IDbContextFactory<ApplicationDbContext> dbFactory, ILogger<ImageAccess> logger)
{
    public static bool IsOwner(GeneratedImage image, Viewer viewer) => viewer.UserId is not null && viewer.UserId == image.OwnerId;

    public static bool MayView(GeneratedImage image, Viewer viewer, ImageRoute route)
    {
        ArgumentNullException.ThrowIfNull(image);
        ArgumentNullException.ThrowIfNull(viewer);
        if (viewer.IsAdmin) return true;
        if (route == ImageRoute.ById && IsOwner(image, viewer)) return true;
        if (image.TakenDownAt is not null) return false;
        return route switch
        {
            ImageRoute.ById => image.Visibility == ImageVisibility.Public,
            // The caller matched the token; a Private image has none, so this is belt and braces.
            ImageRoute.ShareLink => image.Visibility != ImageVisibility.Private,
            // The caller matched a shared collection that holds the image: the owner chose to share it that way.
            ImageRoute.Collection => true,
            _ => false,
        };
    }

    /// <summary>
    /// Whether an image may be named in a lineage view or as a "remixed from" parent: only what the viewer may see by id
    /// without admin powers (admins audit images one by one, by id; their lineage views show what anyone else's would).
    /// </summary>
    public static bool MayAppearInLineage(GeneratedImage image, Viewer viewer) =>
        MayView(image, viewer with { IsAdmin = false }, ImageRoute.ById);

    public static bool MaySeePrompt(GeneratedImage image, Viewer viewer) => viewer.IsAdmin || IsOwner(image, viewer) || !image.HidePrompt;

    public static bool MayRemix(GeneratedImage image, Viewer viewer) => viewer.IsAdmin || IsOwner(image, viewer) || image.AllowRemix;

    /// <summary>Images that may be listed to anyone: Explore, profiles, search, likes lists.</summary>
    public static IQueryable<GeneratedImage> Listed(IQueryable<GeneratedImage> images) =>
        images.Where(i => i.Visibility == ImageVisibility.Public && i.TakenDownAt == null);

    public async Task<ImageGrant?> ByIdAsync(Guid id, Viewer viewer, CancellationToken cancellationToken = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var image = await db.GeneratedImages.AsNoTracking().Include(i => i.Owner).SingleOrDefaultAsync(i => i.Id == id, cancellationToken);
        if (image is null || !MayView(image, viewer, ImageRoute.ById)) return Refused(id, viewer, ImageRoute.ById);
        return Grant(image, viewer, ImageRoute.ById, $"/gallery/{id}", $"/images/{id}", $"/images/{id}/thumb");
    }

    public async Task<ImageGrant?> ByShareTokenAsync(string? token, Viewer viewer, CancellationToken cancellationToken = default)
    {
        if (!ShareTokens.IsWellFormed(token)) return null;
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var image = await db.GeneratedImages.AsNoTracking().Include(i => i.Owner).SingleOrDefaultAsync(i => i.ShareToken == token, cancellationToken);
        if (image is null || !MayView(image, viewer, ImageRoute.ShareLink)) return Refused(null, viewer, ImageRoute.ShareLink);
        return Grant(image, viewer, ImageRoute.ShareLink, $"/s/{token}", $"/s/{token}/image", $"/s/{token}/thumb");
    }

    /// <summary>An image of a collection shared by its link (Unlisted or Public collection).</summary>
    public async Task<ImageGrant?> ByCollectionAsync(string? collectionToken, Guid imageId, Viewer viewer, CancellationToken cancellationToken = default)
    {
        if (!ShareTokens.IsWellFormed(collectionToken)) return null;
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var image = await db.GeneratedImages.AsNoTracking().Include(i => i.Owner)
            .Where(i => i.Id == imageId && db.Set<Data.CollectionImage>().Any(ci => ci.ImageId == i.Id
                && db.Set<Data.Collection>().Any(c => c.Id == ci.CollectionId && c.ShareToken == collectionToken && c.Visibility != ImageVisibility.Private)))
            .SingleOrDefaultAsync(cancellationToken);
        if (image is null || !MayView(image, viewer, ImageRoute.Collection)) return Refused(imageId, viewer, ImageRoute.Collection);
        var prefix = $"/c/{collectionToken}/images/{imageId}";
        return Grant(image, viewer, ImageRoute.Collection, $"/c/{collectionToken}#{imageId}", prefix, $"{prefix}/thumb");
    }

    /// <summary>
    /// The check a remix submission makes: the parent must be visible to the viewer by id (their own, Public, or any for
    /// admins) and allow remix. Unlisted images reached through their link can be remixed (prefilled) but are not
    /// recorded as the parent, since lineage never names an Unlisted image to others.
    /// </summary>
    public async Task<RemixPermission> CheckRemixParentAsync(Guid parentId, Viewer viewer, CancellationToken cancellationToken = default)
    {
        var grant = await ByIdAsync(parentId, viewer, cancellationToken);
        if (grant is null) return RemixPermission.NotFound;
        return grant.MayRemix ? RemixPermission.Allowed : RemixPermission.Forbidden;
    }

    public static ImageGrant Grant(GeneratedImage image, Viewer viewer, ImageRoute route, string pageUrl, string imageUrl, string thumbUrl) =>
        new(image, viewer, route, IsOwner(image, viewer), MaySeePrompt(image, viewer), MayRemix(image, viewer), pageUrl, imageUrl, thumbUrl);

    private ImageGrant? Refused(Guid? id, Viewer viewer, ImageRoute route)
    {
        logger.LogInformation("Image {ImageId} refused to {UserId} via {Route}: missing, not shared or not theirs", id, viewer.UserId ?? "anonymous", route);
        return null;
    }
}

public enum RemixPermission { Allowed, NotFound, Forbidden }
