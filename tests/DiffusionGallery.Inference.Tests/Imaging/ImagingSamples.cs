namespace DiffusionGallery.Inference.Tests;

/// <summary>Hand-made byte streams for decoder tests.</summary>
internal static class ImagingSamples
{
    /// <summary>A PNG signature and a valid IHDR claiming the given size, followed by IEND (no pixel data).</summary>
    public static byte[] PngHeaderOnly(int width, int height)
    {
        var ihdr = new byte[13];
        WriteBigEndian(ihdr, 0, (uint)width);
        WriteBigEndian(ihdr, 4, (uint)height);
        ihdr[8] = 8; // bit depth
        ihdr[9] = 2; // RGB
        using var stream = new MemoryStream();
        stream.Write([137, 80, 78, 71, 13, 10, 26, 10]);
        WriteChunk(stream, "IHDR", ihdr);
        WriteChunk(stream, "IEND", []);
        return stream.ToArray();
    }

    public static byte[] Bmp() => [(byte)'B', (byte)'M', 58, 0, 0, 0, 0, 0, 0, 0, 54, 0, 0, 0, 40, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1, 0, 24, 0, 0, 0, 0, 0, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 255, 0];

    /// <summary>The 24-byte BigTIFF header shape of the public proof of concept.</summary>
    public static byte[] BigTiff() => [(byte)'I', (byte)'I', 43, 0, 8, 0, 0, 0, 16, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0];

    public static byte[] Gif() => "GIF89a\x01\x00\x01\x00\x00\x00\x00;"u8.ToArray();

    private static void WriteChunk(Stream stream, string type, byte[] data)
    {
        var header = new byte[8];
        WriteBigEndian(header, 0, (uint)data.Length);
        System.Text.Encoding.ASCII.GetBytes(type, 0, 4, header, 4);
        stream.Write(header);
        stream.Write(data);
        var crc = new byte[4];
        WriteBigEndian(crc, 0, Crc(header.AsSpan(4), data));
        stream.Write(crc);
    }

    private static uint Crc(ReadOnlySpan<byte> type, ReadOnlySpan<byte> data)
    {
        var crc = 0xFFFFFFFFu;
        foreach (var b in type.ToArray().Concat(data.ToArray()))
        {
            crc ^= b;
            for (var k = 0; k < 8; k++)
                crc = (crc & 1) != 0 ? 0xEDB88320u ^ (crc >> 1) : crc >> 1;
        }

        return crc ^ 0xFFFFFFFFu;
    }

    private static void WriteBigEndian(byte[] buffer, int offset, uint value)
    {
        buffer[offset] = (byte)(value >> 24);
        buffer[offset + 1] = (byte)(value >> 16);
        buffer[offset + 2] = (byte)(value >> 8);
        buffer[offset + 3] = (byte)value;
    }
}
