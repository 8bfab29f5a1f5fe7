namespace DiffusionGallery.Web.Quotas;

/// <summary>
/// What a user may still do today (<c>GET /api/me/quota</c>, the generate and account pages). Null limits are
/// unlimited; "left" is null for an unlimited limit. Days reset at <see cref="ResetsAt"/> (midnight UTC).
/// </summary>
public sealed record QuotaStatus(
    int? ImagesPerDay,
    int ImagesUsed,
    int? ImagesLeft,
    double? GpuSecondsPerDay,
    double GpuSecondsUsed,
    double? GpuSecondsLeft,
    int? MaxQueuedJobs,
    int? MaxSteps,
    long? MaxPixels,
    int? MaxBatch,
    IReadOnlyList<string> AllowedModels,
    double Weight,
    DateTimeOffset ResetsAt)
{
    public static QuotaStatus From(EffectiveQuota quota, UsageTotals used, DateTimeOffset resetsAt) => new(
        quota.ImagesPerDay, used.Images, quota.ImagesPerDay is { } images ? Math.Max(0, images - used.Images) : null,
        quota.GpuSecondsPerDay, Math.Round(used.GpuSeconds, 3), quota.GpuSecondsPerDay is { } gpu ? Math.Round(Math.Max(0, gpu - used.GpuSeconds), 3) : null,
        quota.MaxQueuedJobs, quota.MaxSteps, quota.MaxPixels, quota.MaxBatch, quota.AllowedModels, quota.Weight, resetsAt);

    /// <summary>One line for people, e.g. "7 of 10 images left today · 120 of 600 GPU-seconds left · resets at 00:00 UTC".</summary>
    public string Summary
    {
        get
        {
            var parts = new List<string>();
            if (ImagesPerDay is { } images) parts.Add($"{ImagesLeft} of {images} images left today");
            if (GpuSecondsPerDay is { } gpu) parts.Add($"{GpuSecondsLeft:0.#} of {gpu:0.#} GPU-seconds left");
            if (parts.Count == 0) return "No daily limit";
            parts.Add($"resets at {ResetsAt.UtcDateTime:HH:mm} UTC");
            return string.Join(" · ", parts);
        }
    }
}
