using DiffusionGallery.Web.Data.Entities;

namespace DiffusionGallery.Web.Generation;

/// <summary>What circuits and hub clients learn about one job. Sent as-is over the hub.</summary>
public sealed record JobUpdate
{
    public required Guid JobId { get; init; }
    public required JobState State { get; init; }
    /// <summary>1-based place in the queue (1 = next to run); null when not queued.</summary>
    public int? QueuePosition { get; init; }
    public int Step { get; init; }
    public int TotalSteps { get; init; }
    public double? IterationsPerSecond { get; init; }
    public double? EtaSeconds { get; init; }
    /// <summary>PNG of the latest latent preview of batch item 0.</summary>
    public byte[]? PreviewPng { get; init; }
    public IReadOnlyList<Guid> ImageIds { get; init; } = [];
    public string? Error { get; init; }
    /// <summary>Images in the UNet call the job shared with others (its own included); null until it succeeded.</summary>
    public int? BatchSize { get; init; }
    /// <summary>
    /// When the job's run went to the engine (the worker's time); set on finished states and in stored reads. While the
    /// job is Running, and for a job that failed or was cancelled before its run reached the engine, it is when the
    /// worker claimed it.
    /// </summary>
    public DateTimeOffset? StartedAt { get; init; }
    /// <summary>When the submission was accepted (just before it was stored and queued); set in stored reads.</summary>
    public DateTimeOffset? CreatedAt { get; init; }
    /// <summary>When its outcome was committed; set on finished states and in stored reads.</summary>
    public DateTimeOffset? FinishedAt { get; init; }

    public bool IsFinished => State is JobState.Succeeded or JobState.Failed or JobState.Cancelled;
}
