using DiffusionGallery.Web.Data;

namespace DiffusionGallery.Web.Uploads;

/// <summary>
/// An image a user uploaded as a reference (img2img, the Lab). The file is a re-encoded PNG without metadata, found by
/// id through <see cref="UploadStore"/>; only its owner sees it.
/// </summary>
public sealed class UploadedImage
{
    public Guid Id { get; set; }
    public required string OwnerId { get; set; }
    public ApplicationUser? Owner { get; set; }
    public int Width { get; set; }
    public int Height { get; set; }
    /// <summary>What the client sent, by content: "png", "jpeg" or "webp".</summary>
    public required string SourceFormat { get; set; }
    /// <summary>Size and SHA-256 of the stored (re-encoded) PNG.</summary>
    public long FileSize { get; set; }
    public required string FileHash { get; set; }
    public DateTimeOffset CreatedAt { get; set; }
    /// <summary>When it was first used as a reference; used uploads outlive the retention period.</summary>
    public DateTimeOffset? UsedAt { get; set; }
}
