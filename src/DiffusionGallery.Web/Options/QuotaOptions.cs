using System.ComponentModel.DataAnnotations;
using DiffusionGallery.Web.Quotas;

namespace DiffusionGallery.Web.Options;

/// <summary>
/// The <c>Quotas</c> section: everybody's defaults, then per-role layers (<c>Quotas:Roles:Trusted</c>), then an
/// admin's per-user overrides (the <c>QuotaPolicies</c> table). A limit of 0 (or an empty model list) means
/// unlimited; the server-wide caps in <c>Generation</c> still apply. Days run from midnight UTC.
/// </summary>
public sealed class QuotaOptions : IValidatableObject
{
    public const string SectionName = "Quotas";

    /// <summary>Images a user may create per day; 0 means unlimited.</summary>
    [Range(0, 1_000_000)] public int ImagesPerDay { get; set; }
    /// <summary>GPU-seconds a user may use per day (worker time, shared when jobs run together); 0 means unlimited.</summary>
    [Range(0, 10_000_000)] public double GpuSecondsPerDay { get; set; }
    /// <summary>Jobs one user may have waiting or running; 0 means only the server-wide cap applies.</summary>
    [Range(0, 10_000)] public int MaxQueuedJobs { get; set; }
    /// <summary>Sampling steps per job; 0 means only the server-wide cap applies.</summary>
    [Range(0, 10_000)] public int MaxSteps { get; set; }
    /// <summary>Width × height of one image; 0 means only the server-wide cap applies.</summary>
    [Range(0, 100_000_000)] public long MaxPixels { get; set; }
    /// <summary>Images per job; 0 means only the server-wide cap applies.</summary>
    [Range(0, 1_000)] public int MaxBatch { get; set; }
    /// <summary>Model names a user may use; empty means every installed model.</summary>
    public string[] AllowedModels { get; set; } = [];
    /// <summary>Share of the GPU in fair-share scheduling (1 = normal, 2 = twice the share).</summary>
    [Range(0.01, 100)] public double Weight { get; set; } = 1;

    /// <summary>Layers by role name: a member of a role gets its limits instead of the defaults (the most generous when in several).</summary>
    public Dictionary<string, QuotaLayer> Roles { get; set; } = new(StringComparer.OrdinalIgnoreCase);

    public QuotaLayer AsLayer() => new()
    {
        ImagesPerDay = ImagesPerDay,
        GpuSecondsPerDay = GpuSecondsPerDay,
        MaxQueuedJobs = MaxQueuedJobs,
        MaxSteps = MaxSteps,
        MaxPixels = MaxPixels,
        MaxBatch = MaxBatch,
        AllowedModels = AllowedModels,
        Weight = Weight,
    };

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        foreach (var (role, layer) in Roles)
        {
            foreach (var (field, messages) in layer.Validate())
                yield return new ValidationResult($"Quotas:Roles:{role}:{field}: {string.Join(" ", messages)}", [nameof(Roles)]);
        }
    }
}
