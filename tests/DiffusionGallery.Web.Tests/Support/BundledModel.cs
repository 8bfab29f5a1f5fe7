using DiffusionGallery.Inference;
using DiffusionGallery.Inference.Pipeline;

namespace DiffusionGallery.Web.Tests.Support;

/// <summary>The real engine over the repository's models/ folder (catalog only; sessions load on first use).</summary>
internal static class BundledModel
{
    private static readonly Lazy<DiffusionImageGenerator> Engine = new(NewGenerator);

    public static DiffusionImageGenerator Generator => Engine.Value;

    /// <summary>Another CPU engine on the bundled model, with sessions of its own (the caller disposes it).</summary>
    public static DiffusionImageGenerator NewGenerator() => new(new InferenceOptions
    {
        ModelsRoot = RepoPaths.Models,
        DefaultModel = "tiny-shapes",
        Provider = ExecutionProviderPreference.Cpu,
    });
}
