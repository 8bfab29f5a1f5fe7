using System.ComponentModel.DataAnnotations;

namespace DiffusionGallery.Web.Options;

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
