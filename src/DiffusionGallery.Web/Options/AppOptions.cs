using System.ComponentModel.DataAnnotations;

namespace DiffusionGallery.Web.Options;

/// <summary>The <c>Inference</c> section: where models live and how the engine runs.</summary>
public sealed class InferenceOptions
{
    public const string SectionName = "Inference";

    /// <summary>Folder holding one sub-folder per model (diffusers ONNX layout). Relative paths: see <see cref="AppPaths"/>.</summary>
    [Required] public string ModelsRoot { get; set; } = "models";

    /// <summary>Folder name of the default model.</summary>
    [Required] public string DefaultModel { get; set; } = "tiny-shapes";

    /// <summary>Auto (CUDA when available, else CPU), Cuda or Cpu.</summary>
    [Required, RegularExpression("^(Auto|Cuda|Cpu)$", ErrorMessage = "Provider must be Auto, Cuda or Cpu.")]
    public string Provider { get; set; } = "Auto";

    [Range(0, 64)] public int DeviceId { get; set; }

    /// <summary>CPU threads for the engine; 0 lets the runtime choose.</summary>
    [Range(0, 256)] public int Threads { get; set; }
}

/// <summary>The <c>Generation</c> section: limits enforced by the queue, whatever the client sends.</summary>
public sealed class GenerationOptions
{
    public const string SectionName = "Generation";

    [Range(1, 10_000)] public int MaxQueuedJobsPerUser { get; set; } = 8;
    [Range(1, 100_000)] public int MaxQueueLength { get; set; } = 500;
    [Range(1, 64)] public int MaxBatch { get; set; } = 4;
    [Range(1, 500)] public int MaxSteps { get; set; } = 150;
    [Range(1, 2000)] public int MaxPromptLength { get; set; } = 1000;
    [Range(64, 4096)] public int MaxPixelsSide { get; set; } = 1024;
    /// <summary>A preview is produced every N steps.</summary>
    [Range(1, 100)] public int PreviewInterval { get; set; } = 1;
}

/// <summary>The <c>Storage</c> section: where image files are written.</summary>
public sealed class StorageOptions
{
    public const string SectionName = "Storage";

    /// <summary>Root folder for images and thumbnails. Relative paths: see <see cref="AppPaths"/>.</summary>
    [Required] public string Root { get; set; } = "data/images";

    [Range(32, 1024)] public int ThumbnailSize { get; set; } = 256;
}

/// <summary>The <c>Quotas</c> section: defaults that a later admin screen can override per user.</summary>
public sealed class QuotaOptions
{
    public const string SectionName = "Quotas";

    /// <summary>Images a user may create per day; 0 means unlimited.</summary>
    [Range(0, 1_000_000)] public int ImagesPerDay { get; set; }
}

/// <summary>The <c>Database</c> section.</summary>
public sealed class DatabaseOptions
{
    public const string SectionName = "Database";

    [Required, RegularExpression("^(Sqlite)$", ErrorMessage = "Only the Sqlite provider is built in.")]
    public string Provider { get; set; } = "Sqlite";

    [Required] public string ConnectionString { get; set; } = "Data Source=data/diffusiongallery.db";

    [Range(100, 120_000)] public int BusyTimeoutMs { get; set; } = 5000;
}

/// <summary>The <c>Auth</c> section.</summary>
public sealed class AuthOptions
{
    public const string SectionName = "Auth";

    /// <summary>E-mail addresses that become Admin on registration (the first account always does).</summary>
    public List<string> AdminEmails { get; set; } = [];

    public bool RequireConfirmedEmail { get; set; }

    [Range(1, 100)] public int MaxFailedAccessAttempts { get; set; } = 5;

    [Range(1, 1440)] public int LockoutMinutes { get; set; } = 5;

    [Range(8, 64)] public int MinPasswordLength { get; set; } = 8;

    /// <summary>Blazor circuits (browser tabs) one account may hold open at once.</summary>
    [Range(1, 1000)] public int MaxCircuitsPerUser { get; set; } = 10;
}
