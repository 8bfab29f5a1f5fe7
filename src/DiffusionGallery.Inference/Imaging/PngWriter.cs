using SixLabors.ImageSharp;
using SixLabors.ImageSharp.Formats.Png;
using SixLabors.ImageSharp.PixelFormats;

namespace DiffusionGallery.Inference.Imaging;

/// <summary>Deterministic RGB PNG encoding (no ImageSharp metadata chunks; ours are added separately).</summary>
public static class PngWriter
{
    private static readonly PngEncoder Encoder = new()
    {
        ColorType = PngColorType.Rgb,
        BitDepth = PngBitDepth.Bit8,
        CompressionLevel = PngCompressionLevel.DefaultCompression,
        ChunkFilter = PngChunkFilter.ExcludeAll,
    };

    public static byte[] Encode(Image<Rgb24> image)
    {
        using var stream = new MemoryStream();
        image.Save(stream, Encoder);
        return stream.ToArray();
    }
}
