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

    public GenerationSettings Clone() => (GenerationSettings)MemberwiseClone();
}
