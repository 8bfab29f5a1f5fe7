using DiffusionGallery.Inference.Abstractions;
using DiffusionGallery.Inference.Metadata;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;

namespace DiffusionGallery.Inference.Pipeline;

/// <summary>
/// A finished generation with everything a host may want beyond <see cref="GenerationResult"/>: the decoded
/// ImageSharp images (owned by this object; dispose it) and the final latents in UNet space.
/// </summary>
public sealed class GenerationRun : IDisposable
{
    internal GenerationRun(GenerationResult result, IReadOnlyList<Image<Rgb24>> images, float[] finalLatents, int[] latentShape)
    {
        Result = result;
        Images = images;
        FinalLatents = finalLatents;
        LatentShape = latentShape;
    }

    public GenerationResult Result { get; }
    public IReadOnlyList<Image<Rgb24>> Images { get; }
    public IReadOnlyList<GenerationMetadata> Metadata => Result.Images.Select(i => i.Metadata!).ToList();
    /// <summary>[B, C, h, w] latents after the last step, before division by the VAE scaling factor.</summary>
    public float[] FinalLatents { get; }
    public int[] LatentShape { get; }

    public void Dispose()
    {
        foreach (var image in Images)
            image.Dispose();
    }
}
