using System.Buffers.Binary;
using System.Text;

namespace DiffusionGallery.Web.Uploads;

public enum UploadFormat { Png, Jpeg, Webp }

/// <summary>
/// Recognises an upload by its first bytes, never by its name or declared type: PNG, JPEG and still WebP pass; everything
/// else is refused with a message naming what it looks like.
/// </summary>
public static class UploadFormatSniffer
{
    private static ReadOnlySpan<byte> PngSignature => [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A];

    /// <exception cref="UploadRejectedException">415 for anything but PNG, JPEG or a still WebP.</exception>
    public static UploadFormat Detect(ReadOnlySpan<byte> data)
    {
        if (data.StartsWith(PngSignature)) return UploadFormat.Png;
        if (data.Length >= 3 && data[0] == 0xFF && data[1] == 0xD8 && data[2] == 0xFF) return UploadFormat.Jpeg;
        if (data.Length >= 12 && data[..4].SequenceEqual("RIFF"u8) && data.Slice(8, 4).SequenceEqual("WEBP"u8))
        {
            if (IsAnimatedWebp(data))
                throw UploadRejectedException.Unsupported("The file is an animated WebP; only still images can be used as a reference.");
            return UploadFormat.Webp;
        }
        throw UploadRejectedException.Unsupported(Describe(data) is { } kind
            ? $"The file is {kind}; only PNG, JPEG or WebP images can be used."
            : "The file is not an image this app can read; only PNG, JPEG or WebP images can be used.");
    }

    /// <summary>A WebP whose VP8X header sets the animation flag, or that carries ANIM/ANMF chunks.</summary>
    internal static bool IsAnimatedWebp(ReadOnlySpan<byte> data)
    {
        var offset = 12;
        while (offset + 8 <= data.Length)
        {
            var fourCc = data.Slice(offset, 4);
            var size = BinaryPrimitives.ReadUInt32LittleEndian(data.Slice(offset + 4, 4));
            if (fourCc.SequenceEqual("VP8X"u8) && offset + 9 <= data.Length && (data[offset + 8] & 0x02) != 0) return true;
            if (fourCc.SequenceEqual("ANIM"u8) || fourCc.SequenceEqual("ANMF"u8)) return true;
            var next = offset + 8L + size + (size & 1);
            if (next > data.Length) break;
            offset = (int)next;
        }
        return false;
    }

    /// <summary>What the file is, where its first bytes tell; null where they do not.</summary>
    private static string? Describe(ReadOnlySpan<byte> data)
    {
        if (data.IsEmpty) return "empty";
        if (data.StartsWith("GIF8"u8)) return "a GIF image";
        if (data.StartsWith("BM"u8)) return "a BMP image";
        if (data.StartsWith("II*\0"u8) || data.StartsWith("MM\0*"u8) || data.StartsWith("II+\0"u8) || data.StartsWith("MM\0+"u8)) return "a TIFF image";
        if (data.StartsWith("MZ"u8)) return "a Windows executable";
        if (data.StartsWith("\u007FELF"u8)) return "a Linux executable";
        if (data.StartsWith("%PDF"u8)) return "a PDF document";
        if (data.StartsWith("PK\u0003\u0004"u8)) return "a ZIP archive";
        if (data.Length >= 12 && data.Slice(4, 4).SequenceEqual("ftyp"u8)) return "an AVIF/HEIF or MP4 file";
        var head = Encoding.UTF8.GetString(data[..Math.Min(data.Length, 512)]).TrimStart('\uFEFF', ' ', '\t', '\r', '\n');
        if (head.Contains("<svg", StringComparison.OrdinalIgnoreCase)) return "an SVG drawing";
        if (head.StartsWith('<')) return "an HTML or XML document";
        return null;
    }
}
