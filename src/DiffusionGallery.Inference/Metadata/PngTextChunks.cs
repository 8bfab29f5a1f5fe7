using System.Buffers.Binary;
using System.IO.Compression;
using System.Text;

namespace DiffusionGallery.Inference.Metadata;

/// <summary>
/// Reads and inserts PNG text chunks (tEXt, zTXt, iTXt) directly in the byte stream, so metadata is exact
/// and independent of the image library. Text that fits Latin-1 is written as tEXt, anything else as
/// uncompressed UTF-8 iTXt (what Pillow's <c>PngInfo.add_text</c> does).
/// </summary>
public static class PngTextChunks
{
    private static readonly byte[] Signature = [137, 80, 78, 71, 13, 10, 26, 10];
    private static readonly Encoding Latin1 = Encoding.Latin1;

    /// <summary>Upper bound on decompressed text per chunk (guards against zlib bombs).</summary>
    public const int MaxTextBytes = 4 * 1024 * 1024;

    /// <summary>Returns a copy of <paramref name="png"/> with the text chunks inserted right after IHDR.</summary>
    public static byte[] Insert(ReadOnlySpan<byte> png, IEnumerable<KeyValuePair<string, string>> texts)
    {
        EnsureSignature(png);
        var ihdrLength = BinaryPrimitives.ReadInt32BigEndian(png[8..]);
        var afterIhdr = 8 + 12 + ihdrLength;
        using var output = new MemoryStream(png.Length + 4096);
        output.Write(png[..afterIhdr]);
        foreach (var (keyword, text) in texts)
            WriteTextChunk(output, keyword, text);
        output.Write(png[afterIhdr..]);
        return output.ToArray();
    }

    /// <summary>All text chunks of a PNG, in file order (keyword → text). Throws <see cref="InvalidDataException"/> on a malformed file.</summary>
    public static IReadOnlyList<KeyValuePair<string, string>> Read(ReadOnlySpan<byte> png)
    {
        EnsureSignature(png);
        var result = new List<KeyValuePair<string, string>>();
        var pos = 8;
        while (pos + 12 <= png.Length)
        {
            var length = BinaryPrimitives.ReadInt32BigEndian(png[pos..]);
            if (length < 0 || pos + 12L + length > png.Length)
                throw new InvalidDataException("PNG chunk runs past the end of the file");
            var type = Encoding.ASCII.GetString(png.Slice(pos + 4, 4));
            var data = png.Slice(pos + 8, length);
            switch (type)
            {
                case "tEXt":
                    result.Add(ParseText(data));
                    break;
                case "zTXt":
                    result.Add(ParseCompressedText(data));
                    break;
                case "iTXt":
                    result.Add(ParseInternationalText(data));
                    break;
                case "IEND":
                    return result;
            }

            pos += 12 + length;
        }

        return result;
    }

    private static void EnsureSignature(ReadOnlySpan<byte> png)
    {
        if (png.Length < 33 || !png[..8].SequenceEqual(Signature))
            throw new InvalidDataException("not a PNG file");
    }

    private static void WriteTextChunk(Stream output, string keyword, string text)
    {
        if (keyword.Length is 0 or > 79 || !IsLatin1(keyword))
            throw new ArgumentException($"invalid PNG text keyword '{keyword}'", nameof(keyword));
        byte[] data;
        string type;
        if (IsLatin1(text))
        {
            type = "tEXt";
            data = [.. Latin1.GetBytes(keyword), 0, .. Latin1.GetBytes(text)];
        }
        else
        {
            type = "iTXt";
            // keyword\0 compression-flag compression-method language\0 translated-keyword\0 text
            data = [.. Latin1.GetBytes(keyword), 0, 0, 0, 0, 0, .. Encoding.UTF8.GetBytes(text)];
        }

        Span<byte> header = stackalloc byte[8];
        BinaryPrimitives.WriteInt32BigEndian(header, data.Length);
        Encoding.ASCII.GetBytes(type, header[4..]);
        output.Write(header);
        output.Write(data);
        var crc = Crc32.Compute(header[4..], data);
        Span<byte> crcBytes = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(crcBytes, crc);
        output.Write(crcBytes);
    }

    private static bool IsLatin1(string s)
    {
        foreach (var c in s)
        {
            if (c > 0xFF)
                return false;
        }

        return true;
    }

    private static KeyValuePair<string, string> ParseText(ReadOnlySpan<byte> data)
    {
        var zero = data.IndexOf((byte)0);
        if (zero <= 0)
            throw new InvalidDataException("tEXt chunk without keyword");
        return new(Latin1.GetString(data[..zero]), Latin1.GetString(data[(zero + 1)..]));
    }

    private static KeyValuePair<string, string> ParseCompressedText(ReadOnlySpan<byte> data)
    {
        var zero = data.IndexOf((byte)0);
        if (zero <= 0 || zero + 2 > data.Length)
            throw new InvalidDataException("zTXt chunk without keyword");
        return new(Latin1.GetString(data[..zero]), Latin1.GetString(Inflate(data[(zero + 2)..])));
    }

    private static KeyValuePair<string, string> ParseInternationalText(ReadOnlySpan<byte> data)
    {
        var zero = data.IndexOf((byte)0);
        if (zero <= 0 || zero + 3 > data.Length)
            throw new InvalidDataException("iTXt chunk without keyword");
        var keyword = Latin1.GetString(data[..zero]);
        var compressed = data[zero + 1] == 1;
        var rest = data[(zero + 3)..];
        var languageEnd = rest.IndexOf((byte)0);
        if (languageEnd < 0)
            throw new InvalidDataException("iTXt chunk without language tag");
        rest = rest[(languageEnd + 1)..];
        var translatedEnd = rest.IndexOf((byte)0);
        if (translatedEnd < 0)
            throw new InvalidDataException("iTXt chunk without translated keyword");
        rest = rest[(translatedEnd + 1)..];
        var bytes = compressed ? Inflate(rest) : rest.ToArray();
        return new(keyword, Encoding.UTF8.GetString(bytes));
    }

    private static byte[] Inflate(ReadOnlySpan<byte> compressed)
    {
        using var input = new MemoryStream(compressed.ToArray());
        using var zlib = new ZLibStream(input, CompressionMode.Decompress);
        using var output = new MemoryStream();
        var buffer = new byte[16384];
        int read;
        while ((read = zlib.Read(buffer)) > 0)
        {
            if (output.Length + read > MaxTextBytes)
                throw new InvalidDataException("compressed PNG text chunk is too large");
            output.Write(buffer, 0, read);
        }

        return output.ToArray();
    }
}

/// <summary>CRC-32 (ISO-HDLC, as PNG uses).</summary>
internal static class Crc32
{
    private static readonly uint[] Table = BuildTable();

    public static uint Compute(ReadOnlySpan<byte> first, ReadOnlySpan<byte> second)
    {
        var crc = 0xFFFFFFFFu;
        foreach (var b in first)
            crc = Table[(crc ^ b) & 0xFF] ^ (crc >> 8);
        foreach (var b in second)
            crc = Table[(crc ^ b) & 0xFF] ^ (crc >> 8);
        return crc ^ 0xFFFFFFFFu;
    }

    private static uint[] BuildTable()
    {
        var table = new uint[256];
        for (var n = 0u; n < 256; n++)
        {
            var c = n;
            for (var k = 0; k < 8; k++)
                c = (c & 1) != 0 ? 0xEDB88320u ^ (c >> 1) : c >> 1;
            table[n] = c;
        }

        return table;
    }
}
