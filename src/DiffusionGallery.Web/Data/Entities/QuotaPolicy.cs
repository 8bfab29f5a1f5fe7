namespace DiffusionGallery.Web.Data.Entities;

/// <summary>
/// An admin's per-user override of the <c>Quotas</c> defaults and role layers. A null field uses the layer below;
/// 0 (or an empty model list) means unlimited. See <see cref="Quotas.EffectiveQuotaResolver"/>.
/// </summary>
public sealed class QuotaPolicy
{
    public required string UserId { get; set; }
    public ApplicationUser? User { get; set; }
    public int? ImagesPerDay { get; set; }
    public double? GpuSecondsPerDay { get; set; }
    public int? MaxQueuedJobs { get; set; }
    public int? MaxSteps { get; set; }
    public long? MaxPixels { get; set; }
    public int? MaxBatch { get; set; }
    /// <summary>Model names, or null for the layer below; an empty list allows every model.</summary>
    public List<string>? AllowedModels { get; set; }
    /// <summary>Share of the GPU in fair-share scheduling (1 = normal); null for the layer below.</summary>
    public double? Weight { get; set; }
    public DateTimeOffset UpdatedAt { get; set; }
    public string? UpdatedBy { get; set; }
}
