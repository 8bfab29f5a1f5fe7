using System.Buffers.Binary;
using System.IO.Compression;
using System.Numerics;
using System.Runtime.InteropServices;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;

namespace DiffusionGallery.Inference.Imaging;

/// <summary>
/// Deterministic 8-bit RGB PNG encoding (IHDR, IDAT, IEND only; our metadata chunks are added separately by
/// <see cref="Metadata.PngMetadata"/>). Rows are filtered with the usual minimum-sum-of-absolute-differences choice
/// among the PNG filters and compressed by the runtime's native zlib — several times faster than ImageSharp 2's managed
/// deflate, which took 54 ms of a 512² image's 361 ms on an H100 host.
/// </summary>
public static class PngWriter
{
    public const int DefaultCompressionLevel = 3;

    private static ReadOnlySpan<byte> Signature => [0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A];

    /// <param name="compressionLevel">zlib level 0–9 (clamped); 3 is much faster than 6 for slightly larger files.</param>
    public static byte[] Encode(Image<Rgb24> image, int compressionLevel = DefaultCompressionLevel)
    {
        ArgumentNullException.ThrowIfNull(image);
        int width = image.Width, height = image.Height, stride = width * 3;
        var idat = Compress(image, stride, Math.Clamp(compressionLevel, 0, 9));

        using var png = new MemoryStream(8 + 25 + idat.Length + 12 + 12);
        png.Write(Signature);
        Span<byte> header = stackalloc byte[13];
        BinaryPrimitives.WriteInt32BigEndian(header, width);
        BinaryPrimitives.WriteInt32BigEndian(header[4..], height);
        header[8] = 8;  // bit depth
        header[9] = 2;  // colour type: RGB
        header[10] = 0; // deflate
        header[11] = 0; // adaptive filtering
        header[12] = 0; // no interlace
        WriteChunk(png, "IHDR"u8, header);
        WriteChunk(png, "IDAT"u8, idat);
        WriteChunk(png, "IEND"u8, []);
        return png.ToArray();
    }

    private static byte[] Compress(Image<Rgb24> image, int stride, int level)
    {
        using var output = new MemoryStream(stride * image.Height / 3 + 1024);
        using (var zlib = new ZLibStream(output, new ZLibCompressionOptions { CompressionLevel = level }, leaveOpen: true))
        {
            var previous = new byte[stride];
            var current = new byte[stride];
            var filtered = new byte[stride + 1];
            var best = new byte[stride + 1];
            image.ProcessPixelRows(rows =>
            {
                for (var y = 0; y < rows.Height; y++)
                {
                    MemoryMarshal.AsBytes(rows.GetRowSpan(y)).CopyTo(current);
                    zlib.Write(FilterRow(current, previous, filtered, best, y == 0));
                    (previous, current) = (current, previous);
                }
            });
        }
        return output.ToArray();
    }

    /// <summary>The filtered row (filter byte first) whose bytes, read as signed, sum to the least.</summary>
    private static ReadOnlySpan<byte> FilterRow(byte[] row, byte[] above, byte[] scratch, byte[] best, bool firstRow)
    {
        var bestSum = long.MaxValue;
        // On the first row Up is None and Paeth is Sub; skip those.
        foreach (var filter in firstRow ? (ReadOnlySpan<byte>)[0, 1] : [0, 1, 2, 3, 4])
        {
            var sum = Apply(filter, row, above, scratch);
            if (sum < bestSum)
            {
                bestSum = sum;
                scratch.AsSpan().CopyTo(best);
            }
        }
        return best;
    }

    private static long Apply(byte filter, ReadOnlySpan<byte> row, ReadOnlySpan<byte> above, Span<byte> output)
    {
        const int bpp = 3;
        output[0] = filter;
        var target = output[1..(row.Length + 1)];
        switch (filter)
        {
            case 0:
                row.CopyTo(target);
                break;
            case 1:
                row[..bpp].CopyTo(target);
                for (var i = bpp; i < row.Length; i++)
                    target[i] = (byte)(row[i] - row[i - bpp]);
                break;
            case 2:
                for (var i = 0; i < row.Length; i++)
                    target[i] = (byte)(row[i] - above[i]);
                break;
            case 3:
                for (var i = 0; i < bpp; i++)
                    target[i] = (byte)(row[i] - (above[i] >> 1));
                for (var i = bpp; i < row.Length; i++)
                    target[i] = (byte)(row[i] - ((row[i - bpp] + above[i]) >> 1));
                break;
            default:
                for (var i = 0; i < bpp; i++)
                    target[i] = (byte)(row[i] - above[i]); // Paeth(0, up, 0) = up
                for (var i = bpp; i < row.Length; i++)
                    target[i] = (byte)(row[i] - Paeth(row[i - bpp], above[i], above[i - bpp]));
                break;
        }

        return SignedMagnitude(target);
    }

    /// <summary>Σ |b| with each byte read as signed: the usual guess at how well a filtered row compresses.</summary>
    private static long SignedMagnitude(ReadOnlySpan<byte> bytes)
    {
        long sum = 0;
        var i = 0;
        if (Vector.IsHardwareAccelerated)
        {
            var signed = MemoryMarshal.Cast<byte, sbyte>(bytes);
            var width = Vector<sbyte>.Count;
            for (; i + width <= signed.Length; i += width)
            {
                // |-128| wraps to -128: read as unsigned that is 128, which is right
                var magnitude = Vector.AsVectorByte(Vector.Abs(new Vector<sbyte>(signed[i..])));
                Vector.Widen(magnitude, out var low, out var high);
                sum += Vector.Sum(low + high);
            }
        }
        for (; i < bytes.Length; i++)
            sum += bytes[i] < 128 ? bytes[i] : 256 - bytes[i];
        return sum;
    }

    private static int Paeth(int a, int b, int c)
    {
        var p = a + b - c;
        int pa = Math.Abs(p - a), pb = Math.Abs(p - b), pc = Math.Abs(p - c);
        return pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
    }

    private static void WriteChunk(Stream stream, ReadOnlySpan<byte> type, ReadOnlySpan<byte> data)
    {
        Span<byte> word = stackalloc byte[4];
        BinaryPrimitives.WriteInt32BigEndian(word, data.Length);
        stream.Write(word);
        stream.Write(type);
        stream.Write(data);
        BinaryPrimitives.WriteUInt32BigEndian(word, Metadata.Crc32.Compute(type, data));
        stream.Write(word);
    }
}
