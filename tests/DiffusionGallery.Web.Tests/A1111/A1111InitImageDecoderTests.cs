using DiffusionGallery.Inference.Imaging;
using DiffusionGallery.Web.A1111;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;

namespace DiffusionGallery.Web.Tests.A1111;

public sealed class A1111InitImageDecoderTests
{
    private static string Png(int width, int height, Rgb24 color)
    {
        using var image = new Image<Rgb24>(width, height, color);
        return Convert.ToBase64String(PngWriter.Encode(image));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public void EveryResizeMode_GivesExactlyTheRequestedSize_WithOrWithoutDataPrefix(int mode)
    {
        var decoder = new A1111InitImageDecoder();
        var source = Png(200, 100, new Rgb24(200, 10, 10));
        foreach (var encoded in new[] { source, "data:image/png;base64," + source })
        {
            using var result = Image.Load<Rgb24>(decoder.DecodeInitImage(encoded, 128, 128, mode));
            Assert.Equal((128, 128), (result.Width, result.Height));
            Assert.Equal(200, result[64, 64].R);
        }
    }

    [Fact]
    public void ResizeModes_StretchCropAndFillDifferAsInA1111()
    {
        // 200x100: the top 10 rows white, the left 50 columns red, the rest black.
        using var source = new Image<Rgb24>(200, 100, new Rgb24(0, 0, 0));
        for (var y = 0; y < 100; y++)
        {
            for (var x = 0; x < 200; x++)
            {
                if (y < 10) source[x, y] = new Rgb24(255, 255, 255);
                else if (x < 50) source[x, y] = new Rgb24(255, 0, 0);
            }
        }
        using var stretched = A1111InitImageDecoder.Fit(source, 128, 128, 0);
        using var cropped = A1111InitImageDecoder.Fit(source, 128, 128, 1);
        using var filled = A1111InitImageDecoder.Fit(source, 128, 128, 2);
        // Crop and resize cuts the left and right quarters off: no red at the left edge.
        Assert.True(stretched[5, 80].R > 200 && stretched[5, 80].G < 50);
        Assert.True(cropped[5, 80].R < 50);
        // Resize and fill puts the whole image, 128x64, in the middle: its white top rows start at y = 32.
        Assert.True(filled[100, 34].G > 200);
        Assert.True(stretched[100, 34].G < 50);
    }

    [Theory]
    [InlineData("http://169.254.169.254/latest/meta-data", "URL")]
    [InlineData("https://example.com/a.png", "URL")]
    [InlineData("data:image/png,abc", "base64")]
    [InlineData("!!!", "base64")]
    [InlineData("", "empty")]
    [InlineData("bm90IGFuIGltYWdl", "format")]
    public void BadInput_IsRefusedWithAClearMessage(string encoded, string expected)
    {
        var ex = Assert.ThrowsAny<InvalidImageException>(() => new A1111InitImageDecoder().DecodeInitImage(encoded, 64, 64, 0));
        Assert.Contains(expected, ex.Message, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public void OversizedPixelCount_IsRefusedBeforeDecoding()
    {
        // A PNG header claiming 20000x20000 pixels: refused from the header alone.
        using var small = new Image<Rgb24>(1, 1);
        var bytes = PngWriter.Encode(small);
        System.Buffers.Binary.BinaryPrimitives.WriteInt32BigEndian(bytes.AsSpan(16), 20000);
        System.Buffers.Binary.BinaryPrimitives.WriteInt32BigEndian(bytes.AsSpan(20), 20000);
        System.Buffers.Binary.BinaryPrimitives.WriteUInt32BigEndian(bytes.AsSpan(29), Crc32(bytes.AsSpan(12, 17)));
        var ex = Assert.ThrowsAny<InvalidImageException>(() => new A1111InitImageDecoder().DecodeInitImage(Convert.ToBase64String(bytes), 64, 64, 0));
        Assert.Contains("20000", ex.Message);
    }

    private static uint Crc32(ReadOnlySpan<byte> data)
    {
        var crc = 0xFFFFFFFFu;
        foreach (var b in data)
        {
            crc ^= b;
            for (var k = 0; k < 8; k++) crc = (crc & 1) != 0 ? (crc >> 1) ^ 0xEDB88320u : crc >> 1;
        }
        return ~crc;
    }
}
