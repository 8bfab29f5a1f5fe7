using DiffusionGallery.Inference.Abstractions;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;

namespace DiffusionGallery.Inference.Tests.Support;

/// <summary>Comparisons of generated images: same seeds and parameters, pixels within 1/255 per channel.</summary>
public static class ImageAssert
{
    /// <summary>The two results hold the same images: seeds, parameters text, and every channel within 1/255.</summary>
    public static void SameImages(GenerationResult expected, GenerationResult actual, string label)
    {
        Assert.Equal(expected.Images.Count, actual.Images.Count);
        for (var i = 0; i < expected.Images.Count; i++)
        {
            Assert.Equal(expected.Images[i].Seed, actual.Images[i].Seed);
            Assert.Equal(expected.Images[i].ParametersText, actual.Images[i].ParametersText);
            var a = Pixels(expected.Images[i].Png);
            var b = Pixels(actual.Images[i].Png);
            Assert.Equal(a.Length, b.Length);
            var worst = 0;
            for (var p = 0; p < a.Length; p++)
                worst = Math.Max(worst, Math.Max(Math.Abs(a[p].R - b[p].R), Math.Max(Math.Abs(a[p].G - b[p].G), Math.Abs(a[p].B - b[p].B))));
            Assert.True(worst <= 1, $"{label} image {i}: a channel differs by {worst}/255");
        }
    }

    /// <summary>The RGB pixels of a PNG, row by row.</summary>
    public static Rgb24[] Pixels(byte[] png)
    {
        using var image = Image.Load<Rgb24>(png);
        var pixels = new Rgb24[image.Width * image.Height];
        image.CopyPixelDataTo(pixels);
        return pixels;
    }
}
