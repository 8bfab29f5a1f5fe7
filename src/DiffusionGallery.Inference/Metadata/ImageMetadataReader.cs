using DiffusionGallery.Inference.Imaging;
using SixLabors.ImageSharp.Metadata.Profiles.Exif;

namespace DiffusionGallery.Inference.Metadata;

/// <summary>
/// Reads generation parameters from any supported image: PNG text chunks (ours, A1111, anything with a
/// <c>parameters</c> chunk), or the EXIF <c>UserComment</c> A1111 writes into JPEG and WebP files.
/// </summary>
public static class ImageMetadataReader
{
    private static readonly SafeImageDecoder Decoder = new();

    /// <exception cref="InvalidImageException">Not a readable PNG, JPEG or WebP.</exception>
    public static ImageMetadata Read(byte[] file)
    {
        if (file.Length >= 8 && file.AsSpan(0, 8).SequenceEqual((ReadOnlySpan<byte>)[137, 80, 78, 71, 13, 10, 26, 10]))
        {
            try
            {
                return PngMetadata.Read(file);
            }
            catch (InvalidDataException ex)
            {
                throw new InvalidImageException($"The PNG is malformed: {ex.Message}");
            }
        }

        var info = Decoder.Identify(file);
        var comment = info.Metadata.ExifProfile?.GetValue(ExifTag.UserComment)?.Value is { } encoded
            ? encoded.Code == EncodedString.CharacterCode.Unicode ? FixUtf16ByteOrder(encoded.Text) : encoded.Text
            : null;
        var parameters = string.IsNullOrWhiteSpace(comment) ? null : A1111Parameters.Parse(comment.TrimEnd('\0'));
        IReadOnlyList<KeyValuePair<string, string>> texts = comment is null ? [] : [new("UserComment", comment)];
        return new ImageMetadata(parameters, null, texts);
    }

    /// <summary>
    /// ImageSharp decodes a UNICODE UserComment as UTF-16LE, but piexif (A1111) and exiftool write it in the EXIF
    /// block's byte order, often big-endian. Text decoded with the wrong order has most characters of the form
    /// U+XX00 (ASCII moved to the high byte); such text is byte-swapped back.
    /// </summary>
    internal static string FixUtf16ByteOrder(string text)
    {
        var swappedLooking = text.Count(c => c > 0xFF && (c & 0xFF) == 0);
        if (swappedLooking * 2 <= text.Length)
            return text;
        return string.Create(text.Length, text, (span, source) =>
        {
            for (var i = 0; i < source.Length; i++)
                span[i] = (char)((source[i] >> 8) | ((source[i] & 0xFF) << 8));
        });
    }
}
