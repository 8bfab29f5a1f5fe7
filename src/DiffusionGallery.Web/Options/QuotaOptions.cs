using System.ComponentModel.DataAnnotations;

namespace DiffusionGallery.Web.Options;

/// <summary>The <c>Quotas</c> section: defaults that a later admin screen can override per user.</summary>
public sealed class QuotaOptions
{
    public const string SectionName = "Quotas";

    /// <summary>Images a user may create per day; 0 means unlimited.</summary>
    [Range(0, 1_000_000)] public int ImagesPerDay { get; set; }
}
