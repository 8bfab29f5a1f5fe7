using System.Text.Json;
using System.Text.Json.Serialization;

namespace DiffusionGallery.Inference.Metadata;

/// <summary>
/// Everything needed to reproduce one image, stored as JSON in the PNG's <see cref="ChunkKeyword"/> text chunk.
/// </summary>
public sealed record GenerationMetadata
{
    public const string ChunkKeyword = "diffusion_gallery";
    public const int CurrentSchemaVersion = 1;

    public int SchemaVersion { get; init; } = CurrentSchemaVersion;
    public required string Prompt { get; init; }
    public string NegativePrompt { get; init; } = "";
    public required string Model { get; init; }
    public required string ModelHash { get; init; }
    public required string Sampler { get; init; }
    public bool KarrasSigmas { get; init; }
    public int Steps { get; init; }
    public float GuidanceScale { get; init; }
    public float GuidanceRescale { get; init; }
    public int Width { get; init; }
    public int Height { get; init; }
    /// <summary>This image's seed (base seed + batch index), as the unsigned 64-bit value.</summary>
    public ulong Seed { get; init; }
    public ulong BaseSeed { get; init; }
    public int BatchIndex { get; init; }
    public int BatchSize { get; init; } = 1;
    public float Eta { get; init; }
    public float Temperature { get; init; } = 1f;
    /// <summary>img2img denoising strength; null for txt2img.</summary>
    public float? Strength { get; init; }
    /// <summary>SHA-256 (hex) of the encoded init image; null for txt2img.</summary>
    public string? InitImageHash { get; init; }
    public string NoiseSource { get; init; } = "philox4x32-10";
    public string ExecutionProvider { get; init; } = "";
    public string RuntimeVersion { get; init; } = "";
    public string Generator { get; init; } = "DiffusionGallery";
    /// <summary>For remixes: the image this one was made from (host-defined id).</summary>
    public string? ParentImage { get; init; }

    private static readonly JsonSerializerOptions JsonOptions = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        WriteIndented = false,
    };

    public string ToJson() => JsonSerializer.Serialize(this, JsonOptions);

    public static GenerationMetadata FromJson(string json) =>
        JsonSerializer.Deserialize<GenerationMetadata>(json, JsonOptions) ?? throw new JsonException("empty generation metadata");
}
