using DiffusionGallery.Inference.Imaging;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;
using SixLabors.ImageSharp.Processing;

namespace DiffusionGallery.Web.A1111;

/// <summary>
/// Base64 images from A1111 clients (<c>init_images</c>, png-info's <c>image</c>), with or without a
/// <c>data:image/…;base64,</c> prefix. Never fetched from a URL (A1111 can; that would let a client make the server
/// request internal addresses). Decoded only through <see cref="SafeImageDecoder"/> (PNG/JPEG/WebP, size and
/// allocation limits, header checked before pixels).
/// </summary>
public sealed class A1111InitImageDecoder
{
    private readonly SafeImageDecoder _decoder = new();

    public long MaxEncodedBytes => _decoder.Limits.MaxEncodedBytes;

    /// <summary>The raw bytes of a base64 image; throws <see cref="InvalidImageException"/> with a message for the user.</summary>
    public byte[] DecodeBase64(string? encoded)
    {
        var text = (encoded ?? "").Trim();
        if (text.StartsWith("http://", StringComparison.OrdinalIgnoreCase) || text.StartsWith("https://", StringComparison.OrdinalIgnoreCase))
            throw new InvalidImageException("Image URLs are not fetched; send the image itself as base64.");
        if (text.StartsWith("data:", StringComparison.OrdinalIgnoreCase))
        {
            var comma = text.IndexOf(',');
            if (comma < 0 || !text[..comma].EndsWith(";base64", StringComparison.OrdinalIgnoreCase))
                throw new InvalidImageException("A data: URL must be base64 (data:image/png;base64,…).");
            text = text[(comma + 1)..];
        }
        if (text.Length == 0) throw new InvalidImageException("The image is empty.");
        if (text.Length / 4L * 3 > MaxEncodedBytes + 3)
            throw new InvalidImageException($"The image is larger than {MaxEncodedBytes} bytes.");
        var buffer = new byte[text.Length / 4 * 3 + 3];
        if (!Convert.TryFromBase64String(text, buffer, out var written))
            throw new InvalidImageException("The image is not valid base64.");
        return buffer[..written];
    }

    /// <summary>
    /// Decodes an init image and brings it to the requested size as A1111's <c>resize_mode</c> does: 0 just resize
    /// (stretch), 1 crop and resize (cover, centred), 2 resize and fill (fit, the rest filled with the stretched
    /// image), 3 latent upscale (treated as 0). Returns a PNG of exactly <paramref name="width"/>×<paramref name="height"/>.
    /// </summary>
    public byte[] DecodeInitImage(string? encoded, int width, int height, int resizeMode)
    {
        var bytes = DecodeBase64(encoded);
        using var image = _decoder.Decode(bytes);
        using var result = Fit(image, width, height, resizeMode);
        return PngWriter.Encode(result);
    }

    internal static Image<Rgb24> Fit(Image<Rgb24> image, int width, int height, int resizeMode)
    {
        var size = new Size(width, height);
        switch (resizeMode)
        {
            case 1:
                return image.Clone(c => c.Resize(new ResizeOptions { Size = size, Mode = ResizeMode.Crop, Position = AnchorPositionMode.Center }));
            case 2:
            {
                var background = image.Clone(c => c.Resize(size));
                using var fitted = image.Clone(c => c.Resize(new ResizeOptions { Size = size, Mode = ResizeMode.Max }));
                background.Mutate(c => c.DrawImage(fitted, new Point((width - fitted.Width) / 2, (height - fitted.Height) / 2), 1f));
                return background;
            }
            default:
                return image.Clone(c => c.Resize(size));
        }
    }
}
