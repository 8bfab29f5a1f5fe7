using DiffusionGallery.Web.Gallery;
using DiffusionGallery.Web.Sharing;

namespace DiffusionGallery.Web.Uploads;

/// <summary>
/// References a user may use: their own uploads (owner only), and any gallery image Sharing's <see cref="ImageAccess"/>
/// lets them see by id — their own, or another user's Public image that is not taken down (Explore, profiles, a Public
/// image's share page). Unlisted images of others are reachable only through their link, never by id, so they are
/// refused here; so are Private and taken-down ones. Admin powers are for moderation, not for making images from other
/// people's private work: a reference is judged as for any user. Whether the creator allows remixing (img2img from an
/// image is a remix) is checked where the image becomes the lineage parent (<c>SubmissionService</c>).
/// </summary>
internal sealed class VisibleImageSourceResolver(UploadService uploads, ImageAccess access, ImageStore images) : IImageSourceResolver
{
    public async Task<ResolvedImageSource?> ResolveAsync(string userId, ImageSourceRef source, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(source);
        source.ThrowIfInvalid("source");
        if (source.UploadId is { } uploadId)
            return await uploads.ReadPngAsync(userId, uploadId, cancellationToken) is { } png ? new ResolvedImageSource(source, png) : null;

        var imageId = source.ImageId!.Value;
        if (await access.ByIdAsync(imageId, new Viewer(userId, IsAdmin: false), cancellationToken) is not { VisibleById: true }) return null;
        try
        {
            return new ResolvedImageSource(source, await File.ReadAllBytesAsync(images.GetImagePath(imageId), cancellationToken));
        }
        catch (Exception ex) when (ex is FileNotFoundException or DirectoryNotFoundException)
        {
            return null;
        }
    }
}
