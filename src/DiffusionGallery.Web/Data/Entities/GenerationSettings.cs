using DiffusionGallery.Inference.Abstractions;

namespace DiffusionGallery.Web.Data.Entities;

/// <summary>Everything a user chooses for a generation; stored as columns on jobs and images.</summary>
public sealed class GenerationSettings
{
    public string Prompt { get; set; } = "";
    public string NegativePrompt { get; set; } = "";
    /// <summary>Model folder name; empty means the default model.</summary>
    public string Model { get; set; } = "";
    public SamplerKind Sampler { get; set; } = SamplerKind.DpmPlusPlus2M;
    /// <summary>Karras sigma spacing; only Euler, Euler a, LMS and DPM++ 2M use it (false for the others once queued).</summary>
    public bool KarrasSigmas { get; set; }
    public int Steps { get; set; } = 20;
    public float GuidanceScale { get; set; } = 7f;
    public int Width { get; set; } = 128;
    public int Height { get; set; } = 128;
    public long Seed { get; set; }
    public int BatchCount { get; set; } = 1;
    public float Temperature { get; set; } = 1f;
    /// <summary>img2img reference: one of the owner's uploads (null otherwise).</summary>
    public Guid? InitUploadId { get; set; }
    /// <summary>img2img reference: a gallery image (also the job's lineage parent; null otherwise).</summary>
    public Guid? InitImageId { get; set; }
    /// <summary>img2img denoising strength, 0 (reconstruct) … 1 (create); null for txt2img.</summary>
    public float? Strength { get; set; }
    /// <summary>How the reference is brought to Width × Height.</summary>
    public Uploads.ReferenceImageFit Fit { get; set; }

    public GenerationSettings Clone() => (GenerationSettings)MemberwiseClone();
}
