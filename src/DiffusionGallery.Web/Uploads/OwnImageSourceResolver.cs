using DiffusionGallery.Web.Gallery;

namespace DiffusionGallery.Web.Uploads;

/// <summary>
/// References a user may use today: their own uploads and their own gallery images. When the sharing capability's access
/// service lands, images visible through Explore or a share page are allowed here, and nowhere else.
/// </summary>
internal sealed class OwnImageSourceResolver(UploadService uploads, GalleryService gallery, ImageStore images) : IImageSourceResolver
{
    public async Task<ResolvedImageSource?> ResolveAsync(string userId, ImageSourceRef source, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(source);
        source.ThrowIfInvalid("source");
        if (source.UploadId is { } uploadId)
            return await uploads.ReadPngAsync(userId, uploadId, cancellationToken) is { } png ? new ResolvedImageSource(source, png) : null;

        var imageId = source.ImageId!.Value;
        if (await gallery.GetAsync(userId, imageId, cancellationToken) is null) return null;
        try
        {
            return new ResolvedImageSource(source, await File.ReadAllBytesAsync(images.GetImagePath(imageId), cancellationToken));
        }
        catch (FileNotFoundException)
        {
            return null;
        }
    }
}
