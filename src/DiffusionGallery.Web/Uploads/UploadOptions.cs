using System.ComponentModel.DataAnnotations;

namespace DiffusionGallery.Web.Uploads;

/// <summary>The <c>Uploads</c> section: reference images people upload for img2img and the Lab.</summary>
public sealed class UploadOptions
{
    public const string SectionName = "Uploads";

    /// <summary>Folder for the re-encoded files (outside the web root). Relative paths: see <see cref="Options.AppPaths"/>.</summary>
    [Required] public string Root { get; set; } = "data/uploads";

    /// <summary>Largest accepted file, in bytes (checked before anything is decoded).</summary>
    [Range(1024, 100 * 1024 * 1024)] public long MaxBytes { get; set; } = 10 * 1024 * 1024;

    /// <summary>Largest accepted width and height, read from the header before decoding.</summary>
    [Range(16, 16384)] public int MaxDimension { get; set; } = 4096;

    /// <summary>An upload never used as a reference is deleted this long after it arrived.</summary>
    [Range(typeof(TimeSpan), "00:01:00", "365.00:00:00")] public TimeSpan Retention { get; set; } = TimeSpan.FromHours(24);

    /// <summary>How often the retention sweep runs.</summary>
    [Range(typeof(TimeSpan), "00:00:05", "1.00:00:00")] public TimeSpan SweepInterval { get; set; } = TimeSpan.FromMinutes(30);
}
