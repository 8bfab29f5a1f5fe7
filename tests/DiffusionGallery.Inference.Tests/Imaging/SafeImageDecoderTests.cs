using System.Diagnostics;
using DiffusionGallery.Inference.Imaging;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.Formats.Jpeg;
using SixLabors.ImageSharp.PixelFormats;

namespace DiffusionGallery.Inference.Tests.Imaging;

public sealed class SafeImageDecoderTests
{
    private readonly SafeImageDecoder _decoder = new();

    public static TheoryData<string, byte[]> Unsupported() => new()
    {
        { "bmp", ImagingSamples.Bmp() },
        { "bigtiff", ImagingSamples.BigTiff() },
        { "gif", ImagingSamples.Gif() },
        { "text", "hello, not an image"u8.ToArray() },
    };

    [Theory]
    [MemberData(nameof(Unsupported))]
    public void OtherFormats_AreReportedUnsupportedQuickly(string kind, byte[] bytes)
    {
        var watch = Stopwatch.StartNew();
        var error = Assert.Throws<InvalidImageException>(() => _decoder.Decode(bytes));

        Assert.True(watch.ElapsedMilliseconds < 500, $"{kind} took {watch.ElapsedMilliseconds} ms");
        Assert.Contains("not supported", error.Message);
    }

    [Fact]
    public void HugeDimensions_AreRefusedAtIdentify()
    {
        var error = Assert.Throws<InvalidImageException>(() => _decoder.Decode(ImagingSamples.PngHeaderOnly(30000, 30000)));

        Assert.Contains("30000x30000", error.Message);
    }

    [Fact]
    public void TruncatedPng_IsReportedAsUndecodable()
    {
        using var image = new Image<Rgb24>(64, 64, new Rgb24(1, 2, 3));
        var png = PngWriter.Encode(image);

        Assert.Throws<InvalidImageException>(() => _decoder.Decode(png[..(png.Length / 2)]));
    }

    [Fact]
    public void EmptyAndOverLimitInputs_AreRefused()
    {
        Assert.Throws<InvalidImageException>(() => _decoder.Decode([]));
        var small = new SafeImageDecoder(new ImageDecodeLimits { MaxEncodedBytes = 10 });
        Assert.Throws<InvalidImageException>(() => small.Decode(new byte[11]));
    }

    [Fact]
    public void PngAndJpeg_Decode()
    {
        using var image = new Image<Rgb24>(16, 8, new Rgb24(200, 100, 50));
        using var jpegStream = new MemoryStream();
        image.Save(jpegStream, new JpegEncoder { Quality = 95 });

        using var fromPng = _decoder.Decode(PngWriter.Encode(image));
        using var fromJpeg = _decoder.Decode(jpegStream.ToArray());

        Assert.Equal(new Rgb24(200, 100, 50), fromPng[5, 5]);
        Assert.Equal((16, 8), (fromJpeg.Width, fromJpeg.Height));
    }

    [Fact]
    public void TensorConversion_RoundTripsPixels()
    {
        using var image = new Image<Rgb24>(8, 8, new Rgb24(0, 128, 255));
        var tensor = new float[3 * 64];

        ImageTensors.ToTensor(image, 8, 8, tensor);
        using var back = ImageTensors.FromTensor(tensor, 8, 8);

        Assert.Equal(-1f, tensor[0]);
        Assert.Equal(1f, tensor[2 * 64]);
        Assert.Equal(new Rgb24(0, 128, 255), back[4, 4]);
    }
}
