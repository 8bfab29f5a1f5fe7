using DiffusionGallery.Inference.Models;

namespace DiffusionGallery.Inference.Pipeline;

/// <summary>
/// How many images a shared run may hold within a memory budget. The estimate per image is that of an SD-style UNet
/// with CFG (two rows): about 16 live feature maps of latent size × text width (768 for SD 1.x) plus the attention
/// scores of the highest-resolution self-attention (latent pixels² × 8 heads), in fp32. For SD 1.5 at 512² that is
/// about 1.5 GB per image; for the bundled tiny model well under 100 MB. It is an upper-bound style estimate, not a
/// measurement: raise <see cref="InferenceOptions.BatchMemoryBudgetMB"/> when the card has room to spare.
/// </summary>
public static class BatchMemoryEstimate
{
    /// <summary>Text width assumed while a model's sessions are not loaded (SD 1.x).</summary>
    public const int DefaultHiddenSize = 768;
    /// <summary>No run holds more images than this, whatever the budget.</summary>
    public const int MaxImagesPerRun = 256;
    private const int RowsPerImage = 2;
    private const int LiveFeatureMaps = 16;
    private const int AttentionHeads = 8;

    public static long BytesPerImage(int width, int height, int hiddenSize)
    {
        long pixels = Math.Max(1, width / LoadedModel.VaeFactor) * (long)Math.Max(1, height / LoadedModel.VaeFactor);
        var perRow = pixels * Math.Max(1, hiddenSize) * LiveFeatureMaps * sizeof(float) + pixels * pixels * AttentionHeads * sizeof(float);
        return RowsPerImage * perRow;
    }

    /// <summary>budget / per image, at least <paramref name="ownBatch"/> and at most <see cref="MaxImagesPerRun"/> (or own batch if larger).</summary>
    public static int MaxImages(long budgetBytes, long bytesPerImage, int ownBatch)
    {
        var fit = budgetBytes / Math.Max(1, bytesPerImage);
        return (int)Math.Max(ownBatch, Math.Min(fit, MaxImagesPerRun));
    }
}
