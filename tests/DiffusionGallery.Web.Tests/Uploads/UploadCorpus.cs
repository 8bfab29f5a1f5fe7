using System.Buffers.Binary;
using System.IO.Compression;
using System.Text;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.Formats.Jpeg;
using SixLabors.ImageSharp.Formats.Png;
using SixLabors.ImageSharp.Formats.Webp;
using SixLabors.ImageSharp.Metadata.Profiles.Exif;
using SixLabors.ImageSharp.PixelFormats;

namespace DiffusionGallery.Web.Tests.Uploads;

/// <summary>
/// The upload fuzz corpus, generated at run time (nothing binary is committed): hostile and awkward files of every kind
/// the upload path must refuse or handle, each built from first principles so the test knows exactly what it sends.
/// </summary>
internal static class UploadCorpus
{
    /// <summary>A valid, small PNG of coloured noise (so it does not compress to nothing).</summary>
    public static byte[] NoisePng(int width = 96, int height = 64, int seed = 1)
    {
        using var image = NoiseImage(width, height, seed);
        using var output = new MemoryStream();
        image.SaveAsPng(output);
        return output.ToArray();
    }

    public static Image<Rgb24> NoiseImage(int width, int height, int seed)
    {
        var random = new Random(seed);
        var image = new Image<Rgb24>(width, height);
        for (var y = 0; y < height; y++)
        for (var x = 0; x < width; x++)
            image[x, y] = new Rgb24((byte)random.Next(256), (byte)(x * 255 / width), (byte)(y * 255 / height));
        return image;
    }

    /// <summary>A few hundred bytes whose header declares <paramref name="side"/>×<paramref name="side"/> RGB pixels.</summary>
    public static byte[] PixelBomb(int side = 50_000)
    {
        using var output = new MemoryStream();
        output.Write([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]);
        var ihdr = new byte[13];
        BinaryPrimitives.WriteUInt32BigEndian(ihdr, (uint)side);
        BinaryPrimitives.WriteUInt32BigEndian(ihdr.AsSpan(4), (uint)side);
        ihdr[8] = 8; // bit depth
        ihdr[9] = 2; // RGB
        WriteChunk(output, "IHDR", ihdr);
        using (var zipped = new MemoryStream())
        {
            using (var z = new ZLibStream(zipped, CompressionLevel.SmallestSize, leaveOpen: true))
                z.Write(new byte[64 * 1024]); // the start of the first rows: zeros compress to almost nothing
            WriteChunk(output, "IDAT", zipped.ToArray());
        }
        WriteChunk(output, "IEND", []);
        return output.ToArray();
    }

    /// <summary>A Windows PE header and some code-like bytes (as a renamed .exe would start).</summary>
    public static byte[] RenamedExecutable()
    {
        var bytes = new byte[4096];
        new Random(7).NextBytes(bytes);
        "MZ"u8.CopyTo(bytes);
        BinaryPrimitives.WriteInt32LittleEndian(bytes.AsSpan(0x3C), 0x80);
        "PE\0\0"u8.CopyTo(bytes.AsSpan(0x80));
        return bytes;
    }

    public static byte[] Svg() => Encoding.UTF8.GetBytes(
        """<?xml version="1.0" encoding="UTF-8"?><svg xmlns="http://www.w3.org/2000/svg" width="50000" height="50000"><script>alert(1)</script><rect width="100%" height="100%" fill="red"/></svg>""");

    /// <summary>A valid PNG cut in the middle of its image data (no IEND).</summary>
    public static byte[] TruncatedPng()
    {
        var png = NoisePng(128, 128, 3);
        return png[..(png.Length / 2)];
    }

    /// <summary>12 MB that begin like a PNG: refused for its size before anything is parsed.</summary>
    public static byte[] TwelveMegabytes()
    {
        var bytes = new byte[12 * 1024 * 1024];
        new Random(12).NextBytes(bytes);
        NoisePng(8, 8).AsSpan(0, 33).CopyTo(bytes);
        return bytes;
    }

    /// <summary>A real two-frame animated WebP (VP8X + ANIM + two ANMF frames holding lossless VP8L bitstreams).</summary>
    public static byte[] AnimatedWebp()
    {
        const int w = 16, h = 16;
        byte[] Frame(int seed)
        {
            using var image = NoiseImage(w, h, seed);
            using var still = new MemoryStream();
            image.SaveAsWebp(still, new WebpEncoder { FileFormat = WebpFileFormatType.Lossless });
            var bytes = still.ToArray();
            // RIFF header (12) then the VP8L chunk: keep the chunk (fourcc, size, payload).
            return bytes[12..];
        }

        using var body = new MemoryStream();
        body.Write("WEBP"u8);
        var vp8x = new byte[10];
        vp8x[0] = 0x02 | 0x10; // animation + alpha
        WriteUInt24(vp8x.AsSpan(4), w - 1);
        WriteUInt24(vp8x.AsSpan(7), h - 1);
        WriteRiffChunk(body, "VP8X", vp8x);
        WriteRiffChunk(body, "ANIM", [0, 0, 0, 0, 0, 0]); // background colour, loop forever
        foreach (var seed in new[] { 1, 2 })
        {
            var frame = Frame(seed);
            var anmf = new byte[16 + frame.Length];
            WriteUInt24(anmf.AsSpan(6), w - 1);
            WriteUInt24(anmf.AsSpan(9), h - 1);
            WriteUInt24(anmf.AsSpan(12), 100); // duration (ms)
            frame.CopyTo(anmf, 16);
            WriteRiffChunk(body, "ANMF", anmf);
        }
        using var output = new MemoryStream();
        output.Write("RIFF"u8);
        var size = new byte[4];
        BinaryPrimitives.WriteUInt32LittleEndian(size, (uint)body.Length);
        output.Write(size);
        body.Position = 0;
        body.CopyTo(output);
        return output.ToArray();
    }

    /// <summary>A 16-bit-per-channel RGB PNG.</summary>
    public static byte[] Png16Bit()
    {
        using var image = new Image<Rgb48>(40, 30);
        for (var y = 0; y < 30; y++)
        for (var x = 0; x < 40; x++)
            image[x, y] = new Rgb48((ushort)(x * 1600), (ushort)(y * 2100), 40000);
        using var output = new MemoryStream();
        image.SaveAsPng(output, new PngEncoder { BitDepth = PngBitDepth.Bit16, ColorType = PngColorType.Rgb });
        return output.ToArray();
    }

    /// <summary>A JPEG carrying EXIF (artist, GPS) and an image-description text, to prove uploads lose their metadata.</summary>
    public static byte[] JpegWithExif()
    {
        using var image = NoiseImage(64, 48, 5);
        var exif = new ExifProfile();
        exif.SetValue(ExifTag.Artist, "Secret Person");
        exif.SetValue(ExifTag.ImageDescription, "home address");
        exif.SetValue(ExifTag.GPSLatitudeRef, "N");
        exif.SetValue(ExifTag.GPSLatitude, [new Rational(48, 1), new Rational(51, 1), new Rational(24, 1)]);
        image.Metadata.ExifProfile = exif;
        using var output = new MemoryStream();
        image.SaveAsJpeg(output, new JpegEncoder { Quality = 90 });
        return output.ToArray();
    }

    /// <summary>
    /// A baseline CMYK JPEG (four components, Adobe APP14 transform 0), written by hand because ImageSharp 2.1 only
    /// encodes YCbCr/grey. Every 8×8 block is flat, so each block is one DC difference and an end-of-block code.
    /// </summary>
    public static byte[] CmykJpeg(int blocksWide = 2, int blocksHigh = 2)
    {
        using var output = new MemoryStream();
        void Marker(byte code, ReadOnlySpan<byte> payload)
        {
            output.WriteByte(0xFF);
            output.WriteByte(code);
            output.WriteByte((byte)((payload.Length + 2) >> 8));
            output.WriteByte((byte)(payload.Length + 2));
            output.Write(payload);
        }

        output.Write([0xFF, 0xD8]);
        Marker(0xEE, [.. "Adobe"u8, 0, 100, 0, 0, 0, 0, 0]); // version 100, flags, transform 0 = CMYK as is
        var dqt = new byte[65];
        Array.Fill(dqt, (byte)1, 1, 64); // table 0, all ones
        Marker(0xDB, dqt);
        var width = blocksWide * 8;
        var height = blocksHigh * 8;
        byte[] sof = [8, (byte)(height >> 8), (byte)height, (byte)(width >> 8), (byte)width, 4, 1, 0x11, 0, 2, 0x11, 0, 3, 0x11, 0, 4, 0x11, 0];
        Marker(0xC0, sof);
        // DC table 0: categories 0..11 as 4-bit codes 0000…1011. AC table 0: only EOB, the 1-bit code 0.
        var dcTable = new byte[1 + 16 + 12];
        dcTable[0] = 0x00;
        dcTable[4] = 12;
        for (var i = 0; i < 12; i++) dcTable[17 + i] = (byte)i;
        Marker(0xC4, dcTable);
        var acTable = new byte[1 + 16 + 1];
        acTable[0] = 0x10;
        acTable[1] = 1;
        acTable[17] = 0x00;
        Marker(0xC4, acTable);
        Marker(0xDA, [4, 1, 0x00, 2, 0x00, 3, 0x00, 4, 0x00, 0, 63, 0]);

        var bits = new BitWriter(output);
        int[] cmyk = [30, 200, 120, 60];
        var previous = new int[4];
        for (var b = 0; b < blocksWide * blocksHigh; b++)
        {
            for (var c = 0; c < 4; c++)
            {
                var value = Math.Clamp(cmyk[c] + b * 10, 0, 255);
                var dc = 8 * (value - 128); // FDCT of a flat block: 8 × level-shifted mean
                var diff = dc - previous[c];
                previous[c] = dc;
                var category = diff == 0 ? 0 : 32 - int.LeadingZeroCount(Math.Abs(diff));
                bits.Write(category, 4);
                if (category > 0) bits.Write(diff > 0 ? diff : diff + (1 << category) - 1, category);
                bits.Write(0, 1); // EOB
            }
        }
        bits.Flush();
        output.Write([0xFF, 0xD9]);
        return output.ToArray();
    }

    private sealed class BitWriter(Stream output)
    {
        private int _buffer, _count;

        public void Write(int value, int length)
        {
            for (var i = length - 1; i >= 0; i--)
            {
                _buffer = (_buffer << 1) | ((value >> i) & 1);
                if (++_count == 8) Emit();
            }
        }

        public void Flush()
        {
            while (_count != 0) Write(1, 1); // pad with ones
        }

        private void Emit()
        {
            output.WriteByte((byte)_buffer);
            if (_buffer == 0xFF) output.WriteByte(0x00); // byte stuffing
            _buffer = 0;
            _count = 0;
        }
    }

    private static void WriteChunk(Stream output, string type, byte[] data)
    {
        var header = new byte[8];
        BinaryPrimitives.WriteUInt32BigEndian(header, (uint)data.Length);
        Encoding.ASCII.GetBytes(type, header.AsSpan(4));
        output.Write(header);
        output.Write(data);
        var crc = new byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(crc, Crc32(header.AsSpan(4), data));
        output.Write(crc);
    }

    private static uint Crc32(ReadOnlySpan<byte> type, ReadOnlySpan<byte> data)
    {
        var crc = 0xFFFFFFFFu;
        foreach (var span in new[] { type.ToArray(), data.ToArray() })
        foreach (var b in span)
        {
            crc ^= b;
            for (var k = 0; k < 8; k++) crc = (crc & 1) != 0 ? 0xEDB88320u ^ (crc >> 1) : crc >> 1;
        }
        return ~crc;
    }

    private static void WriteRiffChunk(Stream output, string fourCc, byte[] data)
    {
        output.Write(Encoding.ASCII.GetBytes(fourCc));
        var size = new byte[4];
        BinaryPrimitives.WriteUInt32LittleEndian(size, (uint)data.Length);
        output.Write(size);
        output.Write(data);
        if ((data.Length & 1) == 1) output.WriteByte(0);
    }

    private static void WriteUInt24(Span<byte> destination, int value)
    {
        destination[0] = (byte)value;
        destination[1] = (byte)(value >> 8);
        destination[2] = (byte)(value >> 16);
    }
}
