using DiffusionGallery.Inference.Imaging;
using DiffusionGallery.Web.A1111;
using DiffusionGallery.Web.Uploads;

namespace DiffusionGallery.Web.Tests.A1111;

public sealed class A1111InitImageDecoderTests
{
    [Fact]
    public void Base64_WithOrWithoutDataPrefix_GivesTheSameBytes()
    {
        byte[] bytes = [0x89, 0x50, 0x4E, 0x47, 1, 2, 3, 250];
        var plain = Convert.ToBase64String(bytes);
        var decoder = new A1111InitImageDecoder();
        Assert.Equal(bytes, decoder.DecodeBase64(plain));
        Assert.Equal(bytes, decoder.DecodeBase64("data:image/png;base64," + plain));
        Assert.Equal(bytes, decoder.DecodeBase64("  DATA:image/webp;BASE64," + plain + "\n"));
    }

    [Theory]
    [InlineData("http://169.254.169.254/latest/meta-data", "URL")]
    [InlineData("https://example.com/a.png", "URL")]
    [InlineData("data:image/png,abc", "base64")]
    [InlineData("!!!", "base64")]
    [InlineData("", "empty")]
    [InlineData("data:image/png;base64,", "empty")]
    public void BadInput_IsRefusedWithAClearMessage(string encoded, string expected)
    {
        var ex = Assert.ThrowsAny<InvalidImageException>(() => new A1111InitImageDecoder().DecodeBase64(encoded));
        Assert.Contains(expected, ex.Message, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public void OversizedBase64_IsRefusedBeforeDecoding()
    {
        var decoder = new A1111InitImageDecoder();
        var ex = Assert.ThrowsAny<InvalidImageException>(() => decoder.DecodeBase64(new string('A', (int)(decoder.MaxEncodedBytes / 3 * 4 + 64))));
        Assert.Contains("larger than", ex.Message);
    }

    [Theory]
    [InlineData(0, ReferenceImageFit.Stretch)]
    [InlineData(1, ReferenceImageFit.Crop)]
    [InlineData(2, ReferenceImageFit.Pad)]
    [InlineData(3, ReferenceImageFit.Stretch)]
    public void ResizeMode_MapsToTheReferenceFit(int resizeMode, ReferenceImageFit expected) =>
        Assert.Equal(expected, new A1111InitImage([], 0.5f, resizeMode).Fit);
}
