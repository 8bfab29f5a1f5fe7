using System.ComponentModel.DataAnnotations;

namespace DiffusionGallery.Web.Options;

/// <summary>The <c>Storage</c> section: where image files are written.</summary>
public sealed class StorageOptions
{
    public const string SectionName = "Storage";

    /// <summary>Root folder for images and thumbnails. Relative paths: see <see cref="AppPaths"/>.</summary>
    [Required] public string Root { get; set; } = "data/images";

    [Range(32, 1024)] public int ThumbnailSize { get; set; } = 256;
}
