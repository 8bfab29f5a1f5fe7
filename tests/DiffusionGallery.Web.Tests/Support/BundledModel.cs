using DiffusionGallery.Inference;
using DiffusionGallery.Inference.Pipeline;

namespace DiffusionGallery.Web.Tests.Support;

/// <summary>The real engine over the repository's models/ folder (catalog only; sessions load on first use).</summary>
internal static class BundledModel
{
    private static readonly Lazy<DiffusionImageGenerator> Engine = new(() => new DiffusionImageGenerator(new InferenceOptions
    {
        ModelsRoot = RepoPaths.Models,
        DefaultModel = "tiny-shapes",
        Provider = ExecutionProviderPreference.Cpu,
    }));

    public static DiffusionImageGenerator Generator => Engine.Value;
}
