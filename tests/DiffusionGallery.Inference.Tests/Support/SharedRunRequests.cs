using DiffusionGallery.Inference.Abstractions;

namespace DiffusionGallery.Inference.Tests.Support;

/// <summary>Requests the shared-run tests combine: short, DPM++ 2M Karras, no previews.</summary>
public static class SharedRunRequests
{
    public static GenerationRequest Dpm(string prompt, long seed) => new()
    {
        Prompt = prompt,
        Seed = seed,
        Steps = 5,
        Sampler = SamplerKind.DpmPlusPlus2M,
        KarrasSigmas = true,
        PreviewInterval = 0,
    };
}
