using SixLabors.ImageSharp;
using SixLabors.ImageSharp.Formats.Png;
using SixLabors.ImageSharp.PixelFormats;
using SixLabors.ImageSharp.Processing;

namespace DiffusionGallery.Web.Uploads;

/// <summary>How a reference image is brought to the model's size.</summary>
public enum ReferenceImageFit
{
    /// <summary>Scale to cover, cut the overflow (centre).</summary>
    Crop = 0,
    /// <summary>Scale to fit inside, fill the rest with black.</summary>
    Pad = 1,
    /// <summary>Scale each side independently (distorts).</summary>
    Stretch = 2,
}

/// <summary>Resizes a stored reference PNG (ours: an upload re-encoded on arrival or a gallery image) to the generation size.</summary>
public static class ReferenceImageFitter
{
    private static readonly Configuration PngOnly = new(new PngConfigurationModule());
    private static readonly PngEncoder Encoder = new() { ColorType = PngColorType.Rgb, BitDepth = PngBitDepth.Bit8, CompressionLevel = PngCompressionLevel.BestSpeed };

    public static byte[] Fit(byte[] png, int width, int height, ReferenceImageFit fit)
    {
        using var image = Load(png);
        if (image.Width != width || image.Height != height)
        {
            var mode = fit switch
            {
                ReferenceImageFit.Pad => ResizeMode.Pad,
                ReferenceImageFit.Stretch => ResizeMode.Stretch,
                _ => ResizeMode.Crop,
            };
            image.Mutate(x => x.Resize(new ResizeOptions { Size = new Size(width, height), Mode = mode, PadColor = Color.Black, Sampler = KnownResamplers.Lanczos3 }));
        }
        using var output = new MemoryStream();
        image.SaveAsPng(output, Encoder);
        return output.ToArray();
    }

    public static Image<Rgb24> Load(byte[] png) => Image.Load<Rgb24>(PngOnly, png);
}
