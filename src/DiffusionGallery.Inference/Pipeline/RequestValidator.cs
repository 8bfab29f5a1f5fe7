using DiffusionGallery.Inference.Abstractions;
using DiffusionGallery.Inference.Imaging;
using DiffusionGallery.Inference.Models;

namespace DiffusionGallery.Inference.Pipeline;

/// <summary>Checks a request against the documented ranges and the model's limits, with one specific error per problem.</summary>
public static class RequestValidator
{
    public const int MinSteps = 1;
    public const int MaxSteps = 150;
    public const float MaxGuidance = 30f;
    public const float MaxTemperature = 2f;
    public const int MaxPromptCharacters = 10_000;

    public static void Validate(GenerationRequest request, ModelInfo model, bool modelIsLcm, int maxBatchSize, SafeImageDecoder? imageDecoder = null)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (request.Prompt is null)
            throw new InvalidGenerationRequestException("Prompt is required.");
        if (request.Prompt.Length > MaxPromptCharacters || (request.NegativePrompt?.Length ?? 0) > MaxPromptCharacters)
            throw new SettingOutOfRangeException(nameof(request.Prompt), $"Prompts are limited to {MaxPromptCharacters} characters.");
        if (request.NegativePrompt is null)
            throw new InvalidGenerationRequestException("NegativePrompt must not be null (use an empty string).");
        CheckText(nameof(request.Prompt), request.Prompt, "The prompt");
        CheckText(nameof(request.NegativePrompt), request.NegativePrompt, "The negative prompt");
        if (!Enum.IsDefined(request.Sampler))
            throw new UnknownSamplerException(request.Sampler.ToString());
        if (request.Steps is < MinSteps or > MaxSteps)
            throw new SettingOutOfRangeException(nameof(request.Steps), $"Steps must be between {MinSteps} and {MaxSteps} (got {request.Steps}).");
        CheckSize(nameof(request.Width), request.Width, model.MaxWidth);
        CheckSize(nameof(request.Height), request.Height, model.MaxHeight);
        Range(nameof(request.GuidanceScale), request.GuidanceScale, 0, MaxGuidance, "CFG scale");
        Range(nameof(request.GuidanceRescale), request.GuidanceRescale, 0, 1, "Guidance rescale");
        Range(nameof(request.Strength), request.Strength, 0, 1, "Strength");
        Range(nameof(request.Eta), request.Eta, 0, 1, "Eta");
        Range(nameof(request.Temperature), request.Temperature, 0, MaxTemperature, "Temperature");
        if (request.BatchSize < 1 || request.BatchSize > maxBatchSize)
            throw new SettingOutOfRangeException(nameof(request.BatchSize), $"Batch size must be between 1 and {maxBatchSize} (got {request.BatchSize}).");
        if (request.PreviewInterval < 0)
            throw new SettingOutOfRangeException(nameof(request.PreviewInterval), "Preview interval must be 0 (off) or more.");
        if (request.Sampler == SamplerKind.Lcm && !modelIsLcm)
            throw new UnsupportedByModelException($"The LCM sampler needs a Latent Consistency Model; '{model.Name}' is not one.");
        if (request.Sampler == SamplerKind.Lcm && request.Steps > model.Scheduler.OriginalInferenceSteps)
            throw new SettingOutOfRangeException(nameof(request.Steps), $"LCM allows at most {model.Scheduler.OriginalInferenceSteps} steps.");
        if (request.InitImage is not null)
        {
            if (!model.HasVaeEncoder)
                throw new UnsupportedByModelException($"img2img needs vae_encoder/model.onnx, which model '{model.Name}' does not have.");
            imageDecoder?.Identify(request.InitImage);
        }
    }

    /// <summary>
    /// Prompts end up in PNG text chunks and logs: control characters (C0 and DEL) other than tab and line breaks are
    /// refused rather than stored.
    /// </summary>
    private static void CheckText(string name, string text, string label)
    {
        foreach (var c in text)
        {
            if ((c < ' ' && c is not ('\t' or '\n' or '\r')) || c == '\u007f')
                throw new InvalidSettingException(name, $"{label} contains a control character (U+{(int)c:X4}); remove it. Only tabs and line breaks are allowed.");
        }
    }

    private static void CheckSize(string name, int value, int max)
    {
        if (value < 64 || value % 8 != 0)
            throw new SettingOutOfRangeException(name, $"{name} must be a multiple of 8 and at least 64 (got {value}).");
        if (value > max)
            throw new SettingOutOfRangeException(name, $"{name} {value} is above this model's limit of {max}.");
    }

    private static void Range(string name, float value, float min, float max, string label)
    {
        if (float.IsNaN(value) || value < min || value > max)
            throw new SettingOutOfRangeException(name, $"{label} must be between {min} and {max} (got {value}).");
    }
}
