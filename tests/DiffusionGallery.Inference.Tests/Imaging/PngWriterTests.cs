using System.Buffers.Binary;
using System.IO.Compression;
using DiffusionGallery.Inference.Imaging;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;

namespace DiffusionGallery.Inference.Tests.Imaging;

/// <summary>Our PNG encoder: lossless, well-formed (checked here without ImageSharp too) and deterministic.</summary>
public sealed class PngWriterTests
{
    /// <summary>Noise (rows stay unfiltered), gradients (Sub/Up/Average/Paeth win) and odd widths.</summary>
    public static TheoryData<string, int, int> Images => new()
    {
        { "noise", 37, 5 },
        { "gradient", 64, 48 },
        { "mixed", 513, 33 },
        { "one pixel", 1, 1 },
    };

    private static Image<Rgb24> Make(string kind, int width, int height)
    {
        var random = new Random(width * 31 + height);
        var image = new Image<Rgb24>(width, height);
        image.ProcessPixelRows(rows =>
        {
            for (var y = 0; y < rows.Height; y++)
            {
                var row = rows.GetRowSpan(y);
                for (var x = 0; x < row.Length; x++)
                    row[x] = kind switch
                    {
                        "noise" => new Rgb24((byte)random.Next(256), (byte)random.Next(256), (byte)random.Next(256)),
                        "gradient" => new Rgb24((byte)(x * 4), (byte)(y * 5), (byte)(x + y)),
                        _ => x < width / 2 ? new Rgb24((byte)(x ^ y), (byte)(255 - x), (byte)random.Next(4)) : new Rgb24(200, (byte)y, 9),
                    };
            }
        });
        return image;
    }

    [Theory]
    [MemberData(nameof(Images))]
    public void Encode_DecodesToTheSamePixels_AtEveryLevel(string kind, int width, int height)
    {
        using var image = Make(kind, width, height);
        foreach (var level in new[] { 0, 3, 9 })
        {
            using var decoded = Image.Load<Rgb24>(PngWriter.Encode(image, level));
            Assert.Equal((width, height), (decoded.Width, decoded.Height));
            for (var y = 0; y < height; y++)
                for (var x = 0; x < width; x++)
                    Assert.True(image[x, y] == decoded[x, y], $"{kind} level {level}: pixel ({x}, {y}) {decoded[x, y]} instead of {image[x, y]}");
        }
    }

    [Fact]
    public void Encode_IsAWellFormedPng_ReadWithoutImageSharp()
    {
        using var image = Make("mixed", 70, 20);
        var png = PngWriter.Encode(image);

        Assert.Equal(new byte[] { 0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A }, png[..8]);
        var chunks = new List<string>();
        var idat = new MemoryStream();
        for (var at = 8; at < png.Length;)
        {
            var length = BinaryPrimitives.ReadInt32BigEndian(png.AsSpan(at));
            var type = System.Text.Encoding.ASCII.GetString(png, at + 4, 4);
            var body = png.AsSpan(at + 8, length);
            Assert.Equal(BitwiseCrc(png.AsSpan(at + 4, 4 + length)), BinaryPrimitives.ReadUInt32BigEndian(png.AsSpan(at + 8 + length)));
            if (type == "IHDR")
                Assert.Equal(new byte[] { 0, 0, 0, 70, 0, 0, 0, 20, 8, 2, 0, 0, 0 }, body.ToArray());
            if (type == "IDAT")
                idat.Write(body);
            chunks.Add(type);
            at += 12 + length;
        }

        Assert.Equal(["IHDR", "IDAT", "IEND"], chunks);
        idat.Position = 0;
        using var raw = new MemoryStream();
        using (var zlib = new ZLibStream(idat, CompressionMode.Decompress))
            zlib.CopyTo(raw);
        Assert.Equal(20 * (1 + 70 * 3), raw.Length); // a filter byte and 70 RGB pixels per row
        Assert.All(Enumerable.Range(0, 20), y => Assert.InRange(raw.GetBuffer()[y * (1 + 70 * 3)], 0, 4));
    }

    [Fact]
    public void Encode_SameImage_SameBytes()
    {
        using var image = Make("gradient", 64, 48);
        Assert.Equal(PngWriter.Encode(image), PngWriter.Encode(image));
    }

    /// <summary>CRC-32 bit by bit (independent of the encoder's table).</summary>
    private static uint BitwiseCrc(ReadOnlySpan<byte> bytes)
    {
        var crc = 0xFFFFFFFFu;
        foreach (var b in bytes)
        {
            crc ^= b;
            for (var k = 0; k < 8; k++)
                crc = (crc & 1) != 0 ? (crc >> 1) ^ 0xEDB88320u : crc >> 1;
        }
        return ~crc;
    }
}
