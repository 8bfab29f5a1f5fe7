using DiffusionGallery.Inference.Abstractions;
using DiffusionGallery.Web.Data.Entities;

namespace DiffusionGallery.Web.Generation;

/// <summary>How one job of a run ended, as the worker saw it, before <see cref="RunResultWriter"/> stores it.</summary>
public sealed class JobEnding
{
    private JobEnding(GenerationJob job, JobState state, TimeSpan gpuTime, DateTimeOffset? startedAt, string executionProvider)
    {
        (Job, State, GpuTime, StartedAt, ExecutionProvider) = (job, state, gpuTime, startedAt, executionProvider);
    }

    public GenerationJob Job { get; }
    /// <summary>Succeeded, Failed or Cancelled (a success whose files cannot be stored becomes Failed).</summary>
    public JobState State { get; private set; }
    /// <summary>Its share of the run's time, charged to its owner.</summary>
    public TimeSpan GpuTime { get; }
    /// <summary>When its run went to the engine (stored as the job's StartedAt); null: keep the claim's time.</summary>
    public DateTimeOffset? StartedAt { get; }
    /// <summary>The engine's provider, recorded with the job's charge.</summary>
    public string ExecutionProvider { get; }
    public GenerationResult? Result { get; private init; }
    /// <summary>Images in the UNet call it shared (its own included).</summary>
    public int SharedBatchSize { get; private init; }
    /// <summary>The message stored and sent for a failure.</summary>
    public string? Error { get; private set; }
    internal Exception? Exception { get; private set; }
    internal List<GeneratedImage> Images { get; } = [];
    /// <summary>As committed: the job's StartedAt and FinishedAt.</summary>
    internal (DateTimeOffset? Started, DateTimeOffset Finished) Times { get; set; }

    public static JobEnding Succeeded(GenerationJob job, GenerationResult result, int sharedBatchSize, TimeSpan gpuTime, DateTimeOffset? startedAt) =>
        new(job, JobState.Succeeded, gpuTime, startedAt, result.ExecutionProvider) { Result = result, SharedBatchSize = sharedBatchSize };

    public static JobEnding Cancelled(GenerationJob job, TimeSpan gpuTime, string executionProvider, DateTimeOffset? startedAt = null) =>
        new(job, JobState.Cancelled, gpuTime, startedAt, executionProvider);

    /// <summary>A failure: a request the engine refused keeps its message, anything else is "The model failed: …".</summary>
    public static JobEnding Failed(GenerationJob job, Exception error, TimeSpan gpuTime, string executionProvider, DateTimeOffset? startedAt = null) =>
        new(job, JobState.Failed, gpuTime, startedAt, executionProvider) { Error = MessageOf(error), Exception = error };

    internal void Fail(string message, Exception? error)
    {
        (State, Error, Exception) = (JobState.Failed, message, error);
        Images.Clear();
    }

    private static string MessageOf(Exception error) => error is InvalidGenerationRequestException ? error.Message : $"The model failed: {error.Message}";
}
