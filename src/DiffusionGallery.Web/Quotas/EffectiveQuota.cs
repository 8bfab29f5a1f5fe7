namespace DiffusionGallery.Web.Quotas;

/// <summary>
/// What one user may do, after defaults, role layers and their override are combined. Null means unlimited
/// (the server-wide caps in <c>Generation</c> still apply); an empty model list allows every model.
/// </summary>
public sealed record EffectiveQuota(
    int? ImagesPerDay,
    double? GpuSecondsPerDay,
    int? MaxQueuedJobs,
    int? MaxSteps,
    long? MaxPixels,
    int? MaxBatch,
    IReadOnlyList<string> AllowedModels,
    double Weight)
{
    public static EffectiveQuota From(QuotaLayer layer) => new(
        Limit(layer.ImagesPerDay),
        layer.GpuSecondsPerDay is > 0 ? layer.GpuSecondsPerDay : null,
        Limit(layer.MaxQueuedJobs),
        Limit(layer.MaxSteps),
        layer.MaxPixels is > 0 ? layer.MaxPixels : null,
        Limit(layer.MaxBatch),
        layer.AllowedModels ?? [],
        layer.Weight is { } w && w > 0 ? w : 1);

    private static int? Limit(int? value) => value is > 0 ? value : null;

    public bool AllowsModel(string model) =>
        AllowedModels.Count == 0 || AllowedModels.Contains(model, StringComparer.OrdinalIgnoreCase);
}
