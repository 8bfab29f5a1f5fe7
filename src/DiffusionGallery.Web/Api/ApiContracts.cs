using System.ComponentModel.DataAnnotations;
using System.Security.Cryptography;
using DiffusionGallery.Inference.Abstractions;
using DiffusionGallery.Web.Data.Entities;

namespace DiffusionGallery.Web.Api;

/// <summary>
/// Body of POST /api/generations and of the hub's Submit. Omitted sampler, Karras choice, steps, CFG and size take the
/// model's recommendations (as the generate page does for a new user); an omitted seed is random.
/// </summary>
public sealed record GenerateRequestDto
{
    [Required] public string Prompt { get; init; } = "";
    public string? NegativePrompt { get; init; }
    public string? Model { get; init; }
    public SamplerKind? Sampler { get; init; }
    /// <summary>Karras sigma spacing (Euler, Euler a, LMS, DPM++ 2M); stored as false for the other samplers.</summary>
    public bool? KarrasSigmas { get; init; }
    public int? Steps { get; init; }
    public float? GuidanceScale { get; init; }
    public int? Width { get; init; }
    public int? Height { get; init; }
    /// <summary>Null or omitted: a random seed.</summary>
    public long? Seed { get; init; }
    public int? BatchCount { get; init; }
    public float? Temperature { get; init; }

    /// <param name="model">The model the request names (or the default one), for its recommendations.</param>
    public GenerationSettings ToSettings(ModelDescriptor model)
    {
        ArgumentNullException.ThrowIfNull(model);
        return new GenerationSettings
        {
            Prompt = Prompt ?? "",
            NegativePrompt = NegativePrompt ?? "",
            Model = Model ?? "",
            Sampler = Sampler ?? model.RecommendedSampler,
            KarrasSigmas = KarrasSigmas ?? (Sampler is null && model.RecommendedKarras),
            Steps = Steps ?? model.RecommendedSteps,
            GuidanceScale = GuidanceScale ?? model.RecommendedGuidance,
            Width = Width ?? model.NativeWidth,
            Height = Height ?? model.NativeHeight,
            Seed = Seed ?? RandomSeed(),
            BatchCount = BatchCount ?? 1,
            Temperature = Temperature ?? 1f,
        };
    }

    public static long RandomSeed() => RandomNumberGenerator.GetInt32(int.MaxValue) * 4L + RandomNumberGenerator.GetInt32(4);
}

public sealed record ImageLinks(string Self, string Png, string Thumbnail);

public sealed record GenerationJobDto(Guid Id, JobState State, int? QueuePosition, int TotalSteps, string? Error, IReadOnlyList<ImageLinks> Images);

public sealed record ImageDto(
    Guid Id, DateTimeOffset CreatedAt, string Prompt, string NegativePrompt, string Model, string ModelHash, SamplerKind Sampler,
    bool KarrasSigmas, int Steps, float GuidanceScale, int Width, int Height, long Seed, float Temperature, string ExecutionProvider,
    string ParametersText, string FileHash, long FileSize, Guid? JobId, ImageLinks Links)
{
    public static ImageDto From(GeneratedImage i) => new(
        i.Id, i.CreatedAt, i.Settings.Prompt, i.Settings.NegativePrompt, i.ModelName, i.ModelHash, i.Settings.Sampler,
        i.Settings.KarrasSigmas, i.Settings.Steps, i.Settings.GuidanceScale, i.Width, i.Height, i.Seed, i.Settings.Temperature, i.ExecutionProvider,
        i.ParametersText, i.FileHash, i.FileSize, i.JobId, ApiLinks.For(i.Id));
}

public sealed record ImagePageDto(IReadOnlyList<ImageDto> Items, int Total, int Page, int PageSize);

public static class ApiLinks
{
    public static ImageLinks For(Guid imageId) => new($"/api/images/{imageId}", $"/images/{imageId}", $"/images/{imageId}/thumb");
}
