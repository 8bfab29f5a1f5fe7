using System.Text.Json.Serialization;
using DiffusionGallery.Web.Errors;

namespace DiffusionGallery.Web.Uploads;

/// <summary>A reference image: exactly one of an upload or a gallery image (REST: <c>{"uploadId":…}</c> or <c>{"imageId":…}</c>).</summary>
public sealed record ImageSourceRef
{
    [JsonPropertyName("uploadId")] public Guid? UploadId { get; init; }
    [JsonPropertyName("imageId")] public Guid? ImageId { get; init; }

    public static ImageSourceRef Upload(Guid id) => new() { UploadId = id };
    public static ImageSourceRef Image(Guid id) => new() { ImageId = id };

    /// <param name="field">The field that holds the reference in the request body ("source", "initImage").</param>
    /// <exception cref="RequestInvalidException">Neither or both are set.</exception>
    public void ThrowIfInvalid(string field)
    {
        if (UploadId is null == ImageId is null)
            throw new RequestInvalidException(field, $"'{field}' names exactly one of 'uploadId' or 'imageId'.");
    }

    public override string ToString() => UploadId is { } u ? $"upload {u}" : $"image {ImageId}";
}

/// <summary>The pixels of a reference the user may see, as a PNG, and what it was.</summary>
public sealed record ResolvedImageSource(ImageSourceRef Source, byte[] Png)
{
    /// <summary>Set for a gallery image: it becomes the lineage parent of what is made from it.</summary>
    public Guid? GalleryImageId => Source.ImageId;
    public Guid? UploadId => Source.UploadId;
}

/// <summary>
/// The one place that decides which images a user may use as a reference (img2img, the Lab). Returns null for anything
/// the user may not see, so callers answer 404 without telling "not yours" from "does not exist".
/// </summary>
public interface IImageSourceResolver
{
    Task<ResolvedImageSource?> ResolveAsync(string userId, ImageSourceRef source, CancellationToken cancellationToken = default);
}
