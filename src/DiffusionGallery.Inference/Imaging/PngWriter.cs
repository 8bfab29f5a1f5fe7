using SixLabors.ImageSharp;
using SixLabors.ImageSharp.Formats.Png;
using SixLabors.ImageSharp.PixelFormats;

namespace DiffusionGallery.Inference.Imaging;

/// <summary>Deterministic RGB PNG encoding (no ImageSharp metadata chunks; ours are added separately).</summary>
public static class PngWriter
{
    public const int DefaultCompressionLevel = 3;

    private static readonly PngEncoder[] Encoders = Enumerable.Range(0, 10).Select(level => new PngEncoder
    {
        ColorType = PngColorType.Rgb,
        BitDepth = PngBitDepth.Bit8,
        CompressionLevel = (PngCompressionLevel)level,
        FilterMethod = PngFilterMethod.Adaptive,
        ChunkFilter = PngChunkFilter.ExcludeAll,
    }).ToArray();

    /// <param name="compressionLevel">zlib level 0–9; 3 is about 2× faster than 6 for ~15 % larger files.</param>
    public static byte[] Encode(Image<Rgb24> image, int compressionLevel = DefaultCompressionLevel)
    {
        using var stream = new MemoryStream();
        image.Save(stream, Encoders[Math.Clamp(compressionLevel, 0, 9)]);
        return stream.ToArray();
    }
}
