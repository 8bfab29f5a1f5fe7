namespace DiffusionGallery.Web.Data.Entities;

/// <summary>Per-user overrides of the Quotas/Generation defaults (set by an admin); null fields use the defaults.</summary>
public sealed class QuotaPolicy
{
    public required string UserId { get; set; }
    public ApplicationUser? User { get; set; }
    public int? ImagesPerDay { get; set; }
    public int? MaxQueuedJobs { get; set; }
    /// <summary>Share of the GPU in fair-share scheduling (1 = normal).</summary>
    public double Weight { get; set; } = 1;
    public DateTimeOffset UpdatedAt { get; set; }
}
