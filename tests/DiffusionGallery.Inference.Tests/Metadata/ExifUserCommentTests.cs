using DiffusionGallery.Inference.Imaging;
using DiffusionGallery.Inference.Metadata;
using DiffusionGallery.Inference.Tests.Support;

namespace DiffusionGallery.Inference.Tests.Metadata;

/// <summary>A1111 stores infotext of JPEG and WebP files in EXIF UserComment (fixtures written with exiftool).</summary>
public sealed class ExifUserCommentTests
{
    [Theory]
    [InlineData("a1111.jpg", "a cat in a hat")]
    [InlineData("a1111.webp", "a 猫 in a hat")]
    public void UserComment_IsParsedAsInfotext(string file, string prompt)
    {
        var metadata = ImageMetadataReader.Read(File.ReadAllBytes(TestPaths.Fixture(file)));

        Assert.Equal(prompt, metadata.Parameters!.Prompt);
        Assert.Equal("lowres", metadata.Parameters.NegativePrompt);
        Assert.Equal("12345", metadata.Parameters["Seed"]);
        Assert.Equal("Euler a", metadata.Parameters["Sampler"]);
    }

    [Fact]
    public void Png_GoesThroughTheChunkReader()
    {
        var metadata = ImageMetadataReader.Read(File.ReadAllBytes(TestPaths.Fixture("a1111-ztxt.png")));

        Assert.Equal("3735928559", metadata.Parameters!["Seed"]);
    }

    [Fact]
    public void UnsupportedOrBrokenFiles_RaiseInvalidImage()
    {
        Assert.Throws<InvalidImageException>(() => ImageMetadataReader.Read(ImagingSamples.Bmp()));
        Assert.Throws<InvalidImageException>(() => ImageMetadataReader.Read([137, 80, 78, 71, 13, 10, 26, 10, 0, 0]));
    }
}
