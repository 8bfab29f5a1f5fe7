using System.Buffers.Binary;
using System.Text;

namespace DiffusionGallery.Web.Tests.Support;

/// <summary>Reads the text chunks (tEXt, iTXt) of a PNG file.</summary>
internal static class PngChunks
{
    public static Dictionary<string, string> ReadText(byte[] png)
    {
        var result = new Dictionary<string, string>(StringComparer.Ordinal);
        if (png.Length < 8 || png[1] != 'P' || png[2] != 'N' || png[3] != 'G') throw new InvalidDataException("Not a PNG.");
        var offset = 8;
        while (offset + 12 <= png.Length)
        {
            var length = (int)BinaryPrimitives.ReadUInt32BigEndian(png.AsSpan(offset));
            var type = Encoding.ASCII.GetString(png, offset + 4, 4);
            var data = png.AsSpan(offset + 8, length);
            if (type == "tEXt")
            {
                var zero = data.IndexOf((byte)0);
                result[Encoding.Latin1.GetString(data[..zero])] = Encoding.Latin1.GetString(data[(zero + 1)..]);
            }
            else if (type == "iTXt")
            {
                var zero = data.IndexOf((byte)0);
                var keyword = Encoding.Latin1.GetString(data[..zero]);
                var rest = data[(zero + 1)..];
                var compressed = rest[0] == 1;
                rest = rest[2..];
                rest = rest[(rest.IndexOf((byte)0) + 1)..]; // language tag
                rest = rest[(rest.IndexOf((byte)0) + 1)..]; // translated keyword
                result[keyword] = compressed
                    ? new StreamReader(new System.IO.Compression.ZLibStream(new MemoryStream(rest.ToArray()), System.IO.Compression.CompressionMode.Decompress), Encoding.UTF8).ReadToEnd()
                    : Encoding.UTF8.GetString(rest);
            }
            if (type == "IEND") break;
            offset += 12 + length;
        }
        return result;
    }
}
