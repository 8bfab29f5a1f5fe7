using System.Globalization;
using DiffusionGallery.Inference.Abstractions;
using DiffusionGallery.Inference.Pipeline;
using DiffusionGallery.Inference.Scheduling;
using DiffusionGallery.Web.Data.Entities;
using DiffusionGallery.Web.Errors;
using DiffusionGallery.Web.Options;
using Microsoft.Extensions.Options;

namespace DiffusionGallery.Web.Generation;

/// <summary>
/// Settings ⇄ engine requests. <see cref="Validate"/> is THE check of what a user asks for (called once, by
/// <see cref="SubmissionService"/>): every limit of <see cref="GenerationOptions"/>, then the engine's own rules for
/// the model; all problems come back together as <see cref="RequestInvalidException"/> field errors (camelCase, as in
/// the REST body). <see cref="ToEngineRequest"/> only maps stored (already valid) settings, for the worker.
/// </summary>
public sealed class GenerationRequestFactory(IImageGenerator generator, IOptions<GenerationOptions> options, IOptions<InferenceOptions> inference)
{
    /// <summary>The model a request names, or the default one when it names none.</summary>
    public ModelDescriptor ResolveModel(string? name) => FindModel(name)
        ?? throw new RequestInvalidException(Fields.Model, $"Unknown model '{Truncate(name ?? "")}'. Available: {string.Join(", ", generator.Models.Select(m => m.Name))}.");

    private ModelDescriptor? FindModel(string? name)
    {
        var models = generator.Models;
        var wanted = string.IsNullOrWhiteSpace(name) ? inference.Value.DefaultModel : name;
        return models.FirstOrDefault(m => string.Equals(m.Name, wanted, StringComparison.Ordinal))
            ?? (string.IsNullOrWhiteSpace(name) && models.Count > 0 ? models[0] : null);
    }

    /// <summary>Checks <paramref name="settings"/> and returns the normalized copy to store (model resolved, prompts trimmed, Karras off where unused).</summary>
    public GenerationSettings Validate(GenerationSettings settings)
    {
        ArgumentNullException.ThrowIfNull(settings);
        var limits = options.Value;
        var errors = new Dictionary<string, string[]>(StringComparer.Ordinal);
        void Add(string field, string message) => errors[field] = errors.TryGetValue(field, out var old) ? [.. old, message] : [message];
        static string N(float value) => value.ToString("0.##", CultureInfo.InvariantCulture);

        var model = FindModel(settings.Model);
        if (model is null) Add(Fields.Model, $"Unknown model '{Truncate(settings.Model)}'. Available: {string.Join(", ", generator.Models.Select(m => m.Name))}.");
        if (string.IsNullOrWhiteSpace(settings.Prompt)) Add(Fields.Prompt, "The prompt is empty.");
        else if (settings.Prompt.Length > limits.MaxPromptLength)
            Add(Fields.Prompt, $"The prompt is {settings.Prompt.Length} characters long; the limit is {limits.MaxPromptLength}.");
        if ((settings.NegativePrompt?.Length ?? 0) > limits.MaxPromptLength)
            Add(Fields.NegativePrompt, $"The negative prompt is {settings.NegativePrompt!.Length} characters long; the limit is {limits.MaxPromptLength}.");
        if (!Enum.IsDefined(settings.Sampler)) Add(Fields.Sampler, $"Unknown sampler. Known: {string.Join(", ", Enum.GetNames<SamplerKind>())}.");
        if (settings.Steps < 1 || settings.Steps > limits.MaxSteps) Add(Fields.Steps, $"Steps must be between 1 and {limits.MaxSteps}.");
        if (!Seeds.IsValid(settings.Seed)) Add(Fields.Seed, Seeds.RangeMessage);
        if (settings.BatchCount < 1 || settings.BatchCount > limits.MaxBatch) Add(Fields.BatchCount, $"Batch count must be between 1 and {limits.MaxBatch}.");
        if (!float.IsFinite(settings.GuidanceScale) || settings.GuidanceScale < limits.MinGuidance || settings.GuidanceScale > limits.MaxGuidance)
            Add(Fields.GuidanceScale, $"CFG scale must be between {N(limits.MinGuidance)} and {N(limits.MaxGuidance)}.");
        if (!float.IsFinite(settings.Temperature) || settings.Temperature < limits.MinTemperature || settings.Temperature > limits.MaxTemperature)
            Add(Fields.Temperature, $"Temperature must be between {N(limits.MinTemperature)} and {N(limits.MaxTemperature)}.");
        foreach (var (side, field, label) in new[] { (settings.Width, Fields.Width, "Width"), (settings.Height, Fields.Height, "Height") })
        {
            if (side < limits.MinPixelsSide || side > limits.MaxPixelsSide || side % 8 != 0)
                Add(field, $"{label} must be a multiple of 8 between {limits.MinPixelsSide} and {limits.MaxPixelsSide}.");
        }
        var hasReference = settings.InitUploadId is not null || settings.InitImageId is not null;
        if (settings.Strength is { } strength && (!float.IsFinite(strength) || strength < 0 || strength > 1))
            Add(Fields.Strength, "Strength must be between 0 (reconstruct the reference) and 1 (create anew).");
        else if (hasReference != settings.Strength is not null)
            Add(Fields.Strength, hasReference ? "A reference image needs a strength between 0 and 1." : "Strength is only used with a reference image (initImage).");
        if (errors.Count > 0) throw new RequestInvalidException(errors);

        var normalized = settings.Clone();
        normalized.Model = model!.Name;
        normalized.Prompt = settings.Prompt.Trim();
        normalized.NegativePrompt = settings.NegativePrompt?.Trim() ?? "";
        normalized.KarrasSigmas = settings.KarrasSigmas && SamplerNames.SupportsKarras(settings.Sampler);
        try
        {
            generator.Validate(ToEngineRequest(normalized)); // the model's own rules (size limits, LCM, control characters)
        }
        catch (InvalidGenerationRequestException ex)
        {
            throw new RequestInvalidException(FieldOf(ex), ex.Message, ex);
        }
        return normalized;
    }

    /// <summary>Maps stored settings to an engine request; no checks (they were made when the job was submitted).</summary>
    public GenerationRequest ToEngineRequest(GenerationSettings settings)
    {
        ArgumentNullException.ThrowIfNull(settings);
        return new GenerationRequest
        {
            Prompt = settings.Prompt,
            NegativePrompt = settings.NegativePrompt ?? "",
            Model = string.IsNullOrEmpty(settings.Model) ? null : settings.Model,
            Sampler = settings.Sampler,
            KarrasSigmas = settings.KarrasSigmas,
            Steps = settings.Steps,
            GuidanceScale = settings.GuidanceScale,
            Width = settings.Width,
            Height = settings.Height,
            Seed = settings.Seed,
            BatchSize = settings.BatchCount,
            Temperature = settings.Temperature,
            Strength = settings.Strength ?? 0.75f,
            PreviewInterval = options.Value.PreviewInterval,
        };
    }

    private static string FieldOf(InvalidGenerationRequestException ex) => ex switch
    {
        InvalidSettingException setting => setting.Setting switch
        {
            nameof(GenerationRequest.BatchSize) => Fields.BatchCount,
            var name => JsonNamingPolicyCamel(name),
        },
        UnknownSamplerException => Fields.Sampler,
        _ => Fields.Model, // unknown model, or something this model cannot do
    };

    private static string JsonNamingPolicyCamel(string name) => System.Text.Json.JsonNamingPolicy.CamelCase.ConvertName(name);

    private static string Truncate(string value) => value.Length <= 60 ? value : value[..60] + "…";

    /// <summary>Field names of the REST body (and of the form's error display).</summary>
    public static class Fields
    {
        public const string Prompt = "prompt", NegativePrompt = "negativePrompt", Model = "model", Sampler = "sampler", Steps = "steps",
            GuidanceScale = "guidanceScale", Width = "width", Height = "height", Seed = "seed", BatchCount = "batchCount", Temperature = "temperature",
            InitImage = "initImage", Strength = "strength";
    }
}
