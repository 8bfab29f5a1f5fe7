using DiffusionGallery.Inference.Abstractions;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.Formats.Png;
using SixLabors.ImageSharp.PixelFormats;

namespace DiffusionGallery.Web.Generation;

/// <summary>Encodes an engine preview frame (RGB24) as a small PNG, once, for every subscriber.</summary>
public static class PreviewEncoder
{
    private static readonly PngEncoder Encoder = new() { CompressionLevel = PngCompressionLevel.BestSpeed };

    public static byte[]? Encode(PreviewFrame? frame)
    {
        if (frame is null || frame.Width <= 0 || frame.Height <= 0 || frame.Rgb24.Length < frame.Width * frame.Height * 3) return null;
        using var image = Image.LoadPixelData<Rgb24>(frame.Rgb24.AsSpan(0, frame.Width * frame.Height * 3), frame.Width, frame.Height);
        using var stream = new MemoryStream();
        image.SaveAsPng(stream, Encoder);
        return stream.ToArray();
    }
}
