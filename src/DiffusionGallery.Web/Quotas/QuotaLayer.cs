namespace DiffusionGallery.Web.Quotas;

/// <summary>
/// One layer of quota settings (a role's defaults or an admin's per-user override). A null field leaves the value of
/// the layer below; 0 (or an empty model list) means unlimited.
/// </summary>
public sealed record QuotaLayer
{
    public int? ImagesPerDay { get; init; }
    public double? GpuSecondsPerDay { get; init; }
    public int? MaxQueuedJobs { get; init; }
    public int? MaxSteps { get; init; }
    public long? MaxPixels { get; init; }
    public int? MaxBatch { get; init; }
    public IReadOnlyList<string>? AllowedModels { get; init; }
    public double? Weight { get; init; }

    public const double MinWeight = 0.01, MaxWeight = 100;

    /// <summary>Field name (camelCase, as in the REST body) → message, for each value out of range.</summary>
    public IReadOnlyDictionary<string, string[]> Validate()
    {
        var errors = new Dictionary<string, string[]>();
        void Check(bool bad, string field, string message)
        {
            if (bad) errors[field] = [message];
        }
        Check(ImagesPerDay is < 0 or > 1_000_000, "imagesPerDay", "Images per day must be between 0 (no limit) and 1000000.");
        Check(GpuSecondsPerDay is < 0 or > 10_000_000 || GpuSecondsPerDay is { } g && !double.IsFinite(g), "gpuSecondsPerDay", "GPU-seconds per day must be between 0 (no limit) and 10000000.");
        Check(MaxQueuedJobs is < 0 or > 10_000, "maxQueuedJobs", "Max queued jobs must be between 0 (no limit) and 10000.");
        Check(MaxSteps is < 0 or > 10_000, "maxSteps", "Max steps must be between 0 (no limit) and 10000.");
        Check(MaxPixels is < 0 or > 100_000_000, "maxPixels", "Max pixels must be between 0 (no limit) and 100000000.");
        Check(MaxBatch is < 0 or > 1_000, "maxBatch", "Max batch must be between 0 (no limit) and 1000.");
        Check(Weight is { } w && (!double.IsFinite(w) || w < MinWeight || w > MaxWeight), "weight", $"Weight must be between {MinWeight} and {MaxWeight}.");
        Check(AllowedModels is { } models && (models.Count > 100 || models.Any(m => string.IsNullOrWhiteSpace(m) || m.Length > 200)),
            "allowedModels", "Allowed models must be at most 100 non-empty names of up to 200 characters.");
        return errors;
    }

    /// <summary>The more generous of two layers, field by field (for a user in several roles).</summary>
    public static QuotaLayer MostGenerous(QuotaLayer a, QuotaLayer b) => new()
    {
        ImagesPerDay = Generous(a.ImagesPerDay, b.ImagesPerDay),
        GpuSecondsPerDay = Generous(a.GpuSecondsPerDay, b.GpuSecondsPerDay),
        MaxQueuedJobs = Generous(a.MaxQueuedJobs, b.MaxQueuedJobs),
        MaxSteps = Generous(a.MaxSteps, b.MaxSteps),
        MaxPixels = Generous(a.MaxPixels, b.MaxPixels),
        MaxBatch = Generous(a.MaxBatch, b.MaxBatch),
        AllowedModels = a.AllowedModels is null ? b.AllowedModels : b.AllowedModels is null ? a.AllowedModels
            : a.AllowedModels.Count == 0 || b.AllowedModels.Count == 0 ? [] : a.AllowedModels.Union(b.AllowedModels, StringComparer.OrdinalIgnoreCase).ToList(),
        Weight = a.Weight is null ? b.Weight : b.Weight is null ? a.Weight : Math.Max(a.Weight.Value, b.Weight.Value),
    };

    private static T? Generous<T>(T? a, T? b) where T : struct, System.Numerics.INumber<T>
    {
        if (a is null) return b;
        if (b is null) return a;
        if (T.IsZero(a.Value) || T.IsZero(b.Value)) return T.Zero; // unlimited wins
        return T.Max(a.Value, b.Value);
    }

    /// <summary>This layer on top of <paramref name="below"/>: set fields win.</summary>
    public QuotaLayer Over(QuotaLayer below) => new()
    {
        ImagesPerDay = ImagesPerDay ?? below.ImagesPerDay,
        GpuSecondsPerDay = GpuSecondsPerDay ?? below.GpuSecondsPerDay,
        MaxQueuedJobs = MaxQueuedJobs ?? below.MaxQueuedJobs,
        MaxSteps = MaxSteps ?? below.MaxSteps,
        MaxPixels = MaxPixels ?? below.MaxPixels,
        MaxBatch = MaxBatch ?? below.MaxBatch,
        AllowedModels = AllowedModels ?? below.AllowedModels,
        Weight = Weight ?? below.Weight,
    };
}
