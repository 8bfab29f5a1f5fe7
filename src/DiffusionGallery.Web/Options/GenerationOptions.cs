using System.ComponentModel.DataAnnotations;
using Microsoft.Extensions.Options;
using EngineLimits = DiffusionGallery.Inference.Pipeline.RequestValidator;

namespace DiffusionGallery.Web.Options;

/// <summary>
/// The <c>Generation</c> section: every limit on what may be asked for (the form, REST/hub validation and the API
/// description read them here, nowhere else), plus queue sizes. Checked at start-up by <see cref="GenerationOptionsValidator"/>.
/// </summary>
public sealed class GenerationOptions
{
    public const string SectionName = "Generation";

    [Range(1, 10_000)] public int MaxQueuedJobsPerUser { get; set; } = 8;
    [Range(1, 100_000)] public int MaxQueueLength { get; set; } = 500;
    [Range(1, 64)] public int MaxBatch { get; set; } = 4;
    [Range(1, EngineLimits.MaxSteps)] public int MaxSteps { get; set; } = 100;
    [Range(1, EngineLimits.MaxPromptCharacters)] public int MaxPromptLength { get; set; } = 1000;
    [Range(64, 4096)] public int MinPixelsSide { get; set; } = 64;
    [Range(64, 4096)] public int MaxPixelsSide { get; set; } = 1024;
    [Range(0, EngineLimits.MaxGuidance)] public float MinGuidance { get; set; }
    [Range(0, EngineLimits.MaxGuidance)] public float MaxGuidance { get; set; } = 30f;
    [Range(0, EngineLimits.MaxTemperature)] public float MinTemperature { get; set; }
    [Range(0, EngineLimits.MaxTemperature)] public float MaxTemperature { get; set; } = 2f;
    /// <summary>A preview is produced every N steps.</summary>
    [Range(1, 100)] public int PreviewInterval { get; set; } = 1;
    /// <summary>
    /// Shared runs a worker keeps in flight per device: with 2, the next run waits at the engine's GPU gate while the
    /// previous one's images are encoded and saved, so the GPU does not idle on database or file work.
    /// </summary>
    [Range(1, 4)] public int RunsInFlight { get; set; } = 2;

    /// <summary>
    /// Most images one shared run may hold, across all its jobs, and never more than the engine's memory budget allows
    /// (0 = the memory budget alone; 1 = no sharing: every job runs alone, as the one-job worker did). A job is never
    /// split, so a run holds at least its head job's batch. With a deep queue (clients that queue ahead) a run of at
    /// most 32 leaves the rest to the next wave, which is made ready meanwhile and follows at once, where one run of
    /// everything ends all together and the GPU waits for its owners' next jobs (measured: docs/benchmarks.md).
    /// </summary>
    [Range(0, 1024)] public int MaxImagesPerRun { get; set; } = 32;

    /// <summary>
    /// Milliseconds a shared run with room may wait, after its first job, for the next jobs of users whose jobs just
    /// ended (people and programs that ask again as soon as an image arrives): they then share one run instead of
    /// splitting into a run of the first to come back and a run of the rest. 0 = never wait.
    /// </summary>
    [Range(0, 1000)] public int GatherWindowMs { get; set; } = 25;

    /// <summary>
    /// Continuous batching: a running shared run takes compatible jobs from the front of the queue at its step
    /// boundaries (while it has room), so a job that arrives mid-run starts at the next step instead of after the run,
    /// and each job's result is saved as soon as it is done. Needs a UNet with a per-row timestep input (our exports);
    /// with other models the joiners run right after, in the same sequence. false = runs are fixed when they start.
    /// </summary>
    public bool JoinRunningRuns { get; set; } = true;

    /// <summary>
    /// A joinable run keeps one run's worth of jobs claimed and loaded beyond its room, so that when a group of jobs
    /// finishes together the next group joins at that same step. Unset = automatic: on where a device has one engine;
    /// off where it has several (Inference:EnginesPerDevice), whose other runs keep the GPU busy meanwhile and would
    /// otherwise find the queue emptied by the first run's ready-ahead.
    /// </summary>
    public bool? ReadyAhead { get; set; }
}

/// <summary>Cross-field checks the attributes cannot express.</summary>
public sealed class GenerationOptionsValidator : IValidateOptions<GenerationOptions>
{
    public ValidateOptionsResult Validate(string? name, GenerationOptions options)
    {
        var failures = new List<string>();
        if (options.MinPixelsSide > options.MaxPixelsSide) failures.Add("Generation:MinPixelsSide must not exceed MaxPixelsSide.");
        if (options.MinPixelsSide % 8 != 0 || options.MaxPixelsSide % 8 != 0) failures.Add("Generation:MinPixelsSide and MaxPixelsSide must be multiples of 8.");
        if (options.MinGuidance > options.MaxGuidance) failures.Add("Generation:MinGuidance must not exceed MaxGuidance.");
        if (options.MinTemperature > options.MaxTemperature) failures.Add("Generation:MinTemperature must not exceed MaxTemperature.");
        if (options.MaxQueuedJobsPerUser > options.MaxQueueLength) failures.Add("Generation:MaxQueuedJobsPerUser must not exceed MaxQueueLength.");
        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
