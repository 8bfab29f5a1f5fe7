using System.Text.Json;
using System.Text.Json.Serialization;

namespace DiffusionGallery.LoadTest;

/// <summary>
/// What this client reads of GET /api/generations/{id}; <see cref="BatchSize"/>, <see cref="StartedAt"/> and
/// <see cref="FinishedAt"/> are null while the server does not report them.
/// </summary>
public sealed record JobResource(Guid Id, string State, string? Error, IReadOnlyList<ImageLinks>? Images, int? BatchSize)
{
    public DateTimeOffset? CreatedAt { get; init; }
    public DateTimeOffset? StartedAt { get; init; }
    public DateTimeOffset? FinishedAt { get; init; }

    public bool IsFinished => State is "Succeeded" or "Failed" or "Cancelled";

    /// <summary>The worker's time for the job (its run went to the engine → its outcome was stored), when the server reports both.</summary>
    public double? WorkerMs => StartedAt is { } started && FinishedAt is { } finished ? (finished - started).TotalMilliseconds : null;

    /// <summary>The job's time in the queue (submitted → its run went to the engine), when the server reports both.</summary>
    public double? QueueMs => CreatedAt is { } created && StartedAt is { } started ? (started - created).TotalMilliseconds : null;
}

public sealed record ImageLinks(string Png);

/// <summary>What this client reads of a hub JobUpdated message (and of the hub's Submit answer).</summary>
public sealed record HubJobUpdate(Guid JobId, string State, string? Error, IReadOnlyList<Guid>? ImageIds)
{
    public bool IsFinished => State is "Succeeded" or "Failed" or "Cancelled";
}

public sealed record CreatedToken(string Token);

internal static class Json
{
    public static readonly JsonSerializerOptions Web = new(JsonSerializerDefaults.Web)
    {
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    };
}
