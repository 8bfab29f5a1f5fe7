using DiffusionGallery.Inference.Abstractions;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;

namespace DiffusionGallery.Inference.Tests.Support;

/// <summary>Comparisons of generated images: same seeds and parameters, pixels within 1/255 per channel.</summary>
public static class ImageAssert
{
    /// <summary>The two results hold the same images: seeds, parameters text, and every channel within 1/255.</summary>
    public static void SameImages(GenerationResult expected, GenerationResult actual, string label) =>
        NearlySameImages(expected, actual, label, worstAllowed: 1, meanAllowed: 1);

    /// <summary>
    /// The two results hold nearly the same images: seeds and parameters text equal, no channel more than
    /// <paramref name="worstAllowed"/>/255 apart and the mean channel difference at most <paramref name="meanAllowed"/>/255
    /// (for paths whose arithmetic differs in rounding only, e.g. float32 graph steps against the host's double ones).
    /// </summary>
    public static void NearlySameImages(GenerationResult expected, GenerationResult actual, string label, int worstAllowed, double meanAllowed)
    {
        Assert.Equal(expected.Images.Count, actual.Images.Count);
        for (var i = 0; i < expected.Images.Count; i++)
        {
            Assert.Equal(expected.Images[i].Seed, actual.Images[i].Seed);
            Assert.Equal(expected.Images[i].ParametersText, actual.Images[i].ParametersText);
            var a = Pixels(expected.Images[i].Png);
            var b = Pixels(actual.Images[i].Png);
            Assert.Equal(a.Length, b.Length);
            var (worst, sum) = (0, 0L);
            for (var p = 0; p < a.Length; p++)
            {
                int r = Math.Abs(a[p].R - b[p].R), g = Math.Abs(a[p].G - b[p].G), bl = Math.Abs(a[p].B - b[p].B);
                worst = Math.Max(worst, Math.Max(r, Math.Max(g, bl)));
                sum += r + g + bl;
            }
            var mean = sum / (3.0 * a.Length);
            Assert.True(worst <= worstAllowed && mean <= meanAllowed,
                $"{label} image {i}: a channel differs by {worst}/255 (allowed {worstAllowed}), the mean by {mean:F3}/255 (allowed {meanAllowed})");
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
