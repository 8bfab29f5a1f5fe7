using DiffusionGallery.Inference.Abstractions;
using DiffusionGallery.Inference.Previews;
using DiffusionGallery.Inference.Scheduling;

namespace DiffusionGallery.Inference.Models;

/// <summary>A model folder as found on disk (no sessions): its descriptor and the settings read from its JSON files.</summary>
public sealed record ModelInfo
{
    /// <summary>Stable Diffusion 1.x/2.x VAE scaling factor, used when diffusion_gallery.json gives none.</summary>
    public const double StableDiffusionScalingFactor = 0.18215;

    public required string Name { get; init; }
    public required string Folder { get; init; }
    public required ModelDescriptor Descriptor { get; init; }
    public required SchedulerConfig Scheduler { get; init; }
    public ModelManifest? Manifest { get; init; }
    public int MaxWidth { get; init; }
    public int MaxHeight { get; init; }
    public double ScalingFactor { get; init; } = StableDiffusionScalingFactor;
    public PreviewFactors PreviewFactors { get; init; } = PreviewFactors.StableDiffusion1;
    public bool HasVaeEncoder { get; init; }

    /// <summary>Reads a model folder's JSON files. Throws <see cref="ModelLoadException"/> on malformed JSON.</summary>
    public static ModelInfo Read(string folder)
    {
        var name = Path.GetFileName(Path.TrimEndingDirectorySeparator(folder));
        ModelManifest? manifest = null;
        var manifestPath = Path.Combine(folder, ModelManifest.FileName);
        if (File.Exists(manifestPath))
            manifest = Parse(name, ModelManifest.FileName, () => ModelManifest.Parse(File.ReadAllText(manifestPath)));
        var schedulerPath = Path.Combine(folder, "scheduler", "scheduler_config.json");
        var scheduler = File.Exists(schedulerPath)
            ? Parse(name, "scheduler/scheduler_config.json", () => SchedulerConfig.Parse(File.ReadAllText(schedulerPath)))
            : SchedulerConfig.StableDiffusion;

        var nativeW = manifest?.NativeWidth ?? 512;
        var nativeH = manifest?.NativeHeight ?? 512;
        var recommended = manifest?.Recommended;
        var sampler = SamplerNames.TryParse(recommended?.Sampler, out var kind) ? kind : SamplerKind.DpmPlusPlus2M;
        if (scheduler.IsLcm && recommended?.Sampler is null)
            sampler = SamplerKind.Lcm;
        var descriptor = new ModelDescriptor(
            name,
            manifest?.DisplayName ?? name,
            nativeW,
            nativeH,
            sampler,
            recommended?.Karras == true && SamplerNames.SupportsKarras(sampler),
            recommended?.Steps ?? (scheduler.IsLcm ? 4 : 25),
            recommended?.GuidanceScale ?? (scheduler.IsLcm ? 1f : 7.5f),
            manifest?.ExamplePrompts ?? [])
        {
            Vocabulary = ModelVocabulary.From(manifest?.Vocabulary),
        };
        return new ModelInfo
        {
            Name = name,
            Folder = folder,
            Descriptor = descriptor,
            Scheduler = scheduler,
            Manifest = manifest,
            MaxWidth = manifest?.MaxWidth ?? nativeW * 2,
            MaxHeight = manifest?.MaxHeight ?? nativeH * 2,
            ScalingFactor = manifest?.ScalingFactor ?? StableDiffusionScalingFactor,
            PreviewFactors = manifest?.PreviewFactors ?? PreviewFactors.StableDiffusion1,
            HasVaeEncoder = File.Exists(Path.Combine(folder, "vae_encoder", "model.onnx")),
        };
    }

    /// <summary>Whether a folder looks like a model (has model_index.json or a UNet graph).</summary>
    public static bool LooksLikeModel(string folder) =>
        File.Exists(Path.Combine(folder, "model_index.json")) || File.Exists(Path.Combine(folder, "unet", "model.onnx"));

    private static T Parse<T>(string model, string file, Func<T> parse)
    {
        try
        {
            return parse();
        }
        catch (Exception ex) when (ex is System.Text.Json.JsonException or ArgumentException or InvalidOperationException or FormatException)
        {
            throw new ModelLoadException(model, file, null, $"invalid JSON: {ex.Message}", ex);
        }
    }
}
