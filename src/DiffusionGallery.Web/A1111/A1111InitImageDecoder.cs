using DiffusionGallery.Inference.Imaging;

namespace DiffusionGallery.Web.A1111;

/// <summary>
/// Base64 images from A1111 clients (<c>init_images</c>, png-info's <c>image</c>), with or without a
/// <c>data:image/…;base64,</c> prefix. Never fetched from a URL (A1111 can; that would let a client make the server
/// request internal addresses). This only undoes the base64: init images are then stored as the caller's upload
/// (<see cref="Uploads.UploadService"/>: kind by content, header limits, restricted decode, metadata-free PNG), and
/// png-info reads text chunks without decoding pixels.
/// </summary>
public sealed class A1111InitImageDecoder
{
    public long MaxEncodedBytes { get; } = new ImageDecodeLimits().MaxEncodedBytes;

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
}
