using DiffusionGallery.Inference.Abstractions;
using DiffusionGallery.Inference.Scheduling;
using DiffusionGallery.Web.Data.Entities;
using DiffusionGallery.Web.Options;
using Microsoft.Extensions.Options;

namespace DiffusionGallery.Web.Generation;

/// <summary>
/// Turns user settings into an engine request, enforcing every limit on the server (whatever the UI or a raw
/// client sends); Karras sigmas are turned off for samplers that do not use sigmas. Throws
/// <see cref="InvalidGenerationRequestException"/> with a message fit for the user.
/// </summary>
public sealed class GenerationRequestFactory(IImageGenerator generator, IOptions<GenerationOptions> options, IOptions<InferenceOptions> inference)
{
    public static readonly float MinGuidance = 0f, MaxGuidance = 30f, MinTemperature = 0f, MaxTemperature = 2f;

    public ModelDescriptor ResolveModel(string? name)
    {
        var models = generator.Models;
        var wanted = string.IsNullOrWhiteSpace(name) ? inference.Value.DefaultModel : name;
        return models.FirstOrDefault(m => string.Equals(m.Name, wanted, StringComparison.Ordinal))
            ?? (string.IsNullOrWhiteSpace(name) && models.Count > 0
                ? models[0]
                : throw new InvalidGenerationRequestException($"Unknown model '{Truncate(wanted)}'."));
    }

    public GenerationRequest Create(GenerationSettings settings)
    {
        ArgumentNullException.ThrowIfNull(settings);
        var limits = options.Value;
        var model = ResolveModel(settings.Model);

        if (string.IsNullOrWhiteSpace(settings.Prompt))
            throw new InvalidGenerationRequestException("The prompt is empty.");
        if (settings.Prompt.Length > limits.MaxPromptLength)
            throw new InvalidGenerationRequestException($"The prompt is longer than {limits.MaxPromptLength} characters.");
        if ((settings.NegativePrompt?.Length ?? 0) > limits.MaxPromptLength)
            throw new InvalidGenerationRequestException($"The negative prompt is longer than {limits.MaxPromptLength} characters.");
        if (!Enum.IsDefined(settings.Sampler))
            throw new InvalidGenerationRequestException("Unknown sampler.");
        if (settings.Steps < 1 || settings.Steps > limits.MaxSteps)
            throw new InvalidGenerationRequestException($"Steps must be between 1 and {limits.MaxSteps}.");
        if (settings.BatchCount < 1 || settings.BatchCount > limits.MaxBatch)
            throw new InvalidGenerationRequestException($"Batch count must be between 1 and {limits.MaxBatch}.");
        if (!float.IsFinite(settings.GuidanceScale) || settings.GuidanceScale < MinGuidance || settings.GuidanceScale > MaxGuidance)
            throw new InvalidGenerationRequestException($"CFG scale must be between {MinGuidance} and {MaxGuidance}.");
        if (!float.IsFinite(settings.Temperature) || settings.Temperature < MinTemperature || settings.Temperature > MaxTemperature)
            throw new InvalidGenerationRequestException($"Temperature must be between {MinTemperature} and {MaxTemperature}.");
        foreach (var (side, label) in new[] { (settings.Width, "Width"), (settings.Height, "Height") })
        {
            if (side < 64 || side > limits.MaxPixelsSide || side % 8 != 0)
                throw new InvalidGenerationRequestException($"{label} must be a multiple of 8 between 64 and {limits.MaxPixelsSide}.");
        }

        var request = new GenerationRequest
        {
            Prompt = settings.Prompt.Trim(),
            NegativePrompt = settings.NegativePrompt?.Trim() ?? "",
            Model = model.Name,
            Sampler = settings.Sampler,
            KarrasSigmas = settings.KarrasSigmas && SamplerNames.SupportsKarras(settings.Sampler),
            Steps = settings.Steps,
            GuidanceScale = settings.GuidanceScale,
            Width = settings.Width,
            Height = settings.Height,
            Seed = settings.Seed,
            BatchSize = settings.BatchCount,
            Temperature = settings.Temperature,
            PreviewInterval = limits.PreviewInterval,
        };
        generator.Validate(request);
        return request;
    }

    private static string Truncate(string value) => value.Length <= 60 ? value : value[..60] + "…";
}
