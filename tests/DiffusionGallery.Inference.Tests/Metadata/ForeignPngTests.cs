using DiffusionGallery.Inference.Abstractions;
using DiffusionGallery.Inference.Metadata;
using DiffusionGallery.Inference.Tests.Support;

namespace DiffusionGallery.Inference.Tests.Metadata;

/// <summary>PNGs written by Pillow the way A1111 saves them (tEXt, zTXt, compressed iTXt), read by our reader.</summary>
public sealed class ForeignPngTests
{
    [Theory]
    [InlineData("a1111-text.png", "masterpiece, (a cat:1.2) in a hat")]
    [InlineData("a1111-ztxt.png", "masterpiece, (a cat:1.2) in a hat")]
    [InlineData("a1111-itxt-compressed.png", "masterpiece, (猫:1.2) in a hat")]
    public void A1111Png_IsParsed(string file, string prompt)
    {
        var metadata = PngMetadata.Read(File.ReadAllBytes(TestPaths.Fixture(file)));

        var p = metadata.Parameters!;
        Assert.Null(metadata.Generation);
        Assert.Equal(prompt, p.Prompt);
        Assert.Equal("lowres, bad anatomy", p.NegativePrompt);
        Assert.Equal("3735928559", p["Seed"]);
        Assert.Equal((512, 768), p.Size);
        Assert.Equal("a: 1, b: 2", p["Lora hashes"]);
        Assert.Equal((SamplerKind.DpmPlusPlus2M, true), A1111SamplerNames.FromA1111(p["Sampler"]!, p["Schedule type"]));
    }
}
