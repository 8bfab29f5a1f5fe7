using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;

namespace DiffusionGallery.Web.Lab;

/// <summary>How close an image is to a reference: PSNR over RGB and SSIM over luma (Wang et al. 2004).</summary>
public static class ImageSimilarity
{
    /// <summary>Peak signal-to-noise ratio in dB over the three 8-bit channels; +∞ for identical images.</summary>
    public static double Psnr(Image<Rgb24> a, Image<Rgb24> b)
    {
        var (pa, pb) = (Pixels(a), Pixels(b));
        RequireSameSize(a, b);
        double sum = 0;
        for (var i = 0; i < pa.Length; i++)
        {
            double dr = pa[i].R - pb[i].R, dg = pa[i].G - pb[i].G, db = pa[i].B - pb[i].B;
            sum += dr * dr + dg * dg + db * db;
        }
        var mse = sum / (3.0 * pa.Length);
        return mse == 0 ? double.PositiveInfinity : 10 * Math.Log10(255.0 * 255.0 / mse);
    }

    /// <summary>Mean structural similarity of the luma planes: 11×11 Gaussian window (σ = 1.5), K₁ = 0.01, K₂ = 0.03; 1 = identical.</summary>
    public static double Ssim(Image<Rgb24> a, Image<Rgb24> b)
    {
        RequireSameSize(a, b);
        int w = a.Width, h = a.Height;
        var (x, y) = (Luma(Pixels(a)), Luma(Pixels(b)));
        const int radius = 5;
        var kernel = new double[2 * radius + 1];
        for (var i = -radius; i <= radius; i++) kernel[i + radius] = Math.Exp(-(i * i) / (2 * 1.5 * 1.5));
        var norm = kernel.Sum();
        for (var i = 0; i < kernel.Length; i++) kernel[i] /= norm;
        const double c1 = 0.01 * 255 * 0.01 * 255, c2 = 0.03 * 255 * 0.03 * 255;

        // Window statistics by separable blurs of x, y, x², y², xy.
        var mx = Blur(x, w, h, kernel);
        var my = Blur(y, w, h, kernel);
        var sxx = Blur(Multiply(x, x), w, h, kernel);
        var syy = Blur(Multiply(y, y), w, h, kernel);
        var sxy = Blur(Multiply(x, y), w, h, kernel);
        double total = 0;
        var count = 0;
        for (var row = radius; row < h - radius; row++)
        for (var col = radius; col < w - radius; col++)
        {
            var i = row * w + col;
            double varX = sxx[i] - mx[i] * mx[i], varY = syy[i] - my[i] * my[i], cov = sxy[i] - mx[i] * my[i];
            total += (2 * mx[i] * my[i] + c1) * (2 * cov + c2) / ((mx[i] * mx[i] + my[i] * my[i] + c1) * (varX + varY + c2));
            count++;
        }
        return count == 0 ? 1 : total / count;
    }

    private static Rgb24[] Pixels(Image<Rgb24> image)
    {
        var pixels = new Rgb24[image.Width * image.Height];
        image.CopyPixelDataTo(pixels);
        return pixels;
    }

    private static double[] Luma(Rgb24[] pixels) => pixels.Select(p => 0.299 * p.R + 0.587 * p.G + 0.114 * p.B).ToArray();

    private static double[] Multiply(double[] a, double[] b)
    {
        var result = new double[a.Length];
        for (var i = 0; i < a.Length; i++) result[i] = a[i] * b[i];
        return result;
    }

    /// <summary>Separable convolution; edge pixels reuse the nearest inside pixel (only interior windows are averaged).</summary>
    private static double[] Blur(double[] source, int w, int h, double[] kernel)
    {
        var radius = kernel.Length / 2;
        var temp = new double[source.Length];
        var result = new double[source.Length];
        for (var row = 0; row < h; row++)
        for (var col = 0; col < w; col++)
        {
            double sum = 0;
            for (var k = -radius; k <= radius; k++) sum += kernel[k + radius] * source[row * w + Math.Clamp(col + k, 0, w - 1)];
            temp[row * w + col] = sum;
        }
        for (var row = 0; row < h; row++)
        for (var col = 0; col < w; col++)
        {
            double sum = 0;
            for (var k = -radius; k <= radius; k++) sum += kernel[k + radius] * temp[Math.Clamp(row + k, 0, h - 1) * w + col];
            result[row * w + col] = sum;
        }
        return result;
    }

    private static void RequireSameSize(Image a, Image b)
    {
        if (a.Width != b.Width || a.Height != b.Height)
            throw new ArgumentException($"Images differ in size ({a.Width}x{a.Height} vs {b.Width}x{b.Height}).");
    }
}
