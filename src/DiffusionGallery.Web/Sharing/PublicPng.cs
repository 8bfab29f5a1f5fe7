using System.Buffers.Binary;

namespace DiffusionGallery.Web.Sharing;

/// <summary>
/// The PNG a visitor downloads when the prompt is hidden: the same pixels, with every metadata chunk removed (text,
/// compressed text, international text, EXIF, time), so nothing of the prompt or settings leaves the server.
/// Only the chunks needed to draw the image are kept.
/// </summary>
public static class PublicPng
{
    private static readonly HashSet<string> Kept = ["IHDR", "PLTE", "IDAT", "IEND", "tRNS", "gAMA", "cHRM", "sRGB", "iCCP", "sBIT", "pHYs"];
    private static readonly byte[] Signature = [0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A];

    public static byte[] StripMetadata(ReadOnlySpan<byte> png)
    {
        if (png.Length < Signature.Length || !png[..Signature.Length].SequenceEqual(Signature)) throw new InvalidDataException("Not a PNG file.");
        using var output = new MemoryStream(png.Length);
        output.Write(Signature);
        var offset = Signature.Length;
        var ended = false;
        while (!ended && offset + 12 <= png.Length)
        {
            var length = checked((int)BinaryPrimitives.ReadUInt32BigEndian(png[offset..]));
            var total = checked(12 + length);
            if (offset + total > png.Length) throw new InvalidDataException("Truncated PNG chunk.");
            var type = System.Text.Encoding.ASCII.GetString(png.Slice(offset + 4, 4));
            if (Kept.Contains(type)) output.Write(png.Slice(offset, total));
            offset += total;
            ended = type == "IEND";
        }
        if (!ended) throw new InvalidDataException("Truncated PNG: no IEND chunk.");
        return output.ToArray();
    }
}
