using System.Text.Json;
using System.Text.Json.Serialization;

namespace DiffusionGallery.LoadTest;

/// <summary>What this client reads of GET /api/generations/{id}; <see cref="BatchSize"/> is null while the server does not report it.</summary>
public sealed record JobResource(Guid Id, string State, string? Error, IReadOnlyList<ImageLinks>? Images, int? BatchSize)
{
    public bool IsFinished => State is "Succeeded" or "Failed" or "Cancelled";
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
