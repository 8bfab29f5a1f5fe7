using DiffusionGallery.Inference.Models;
using DiffusionGallery.Inference.Previews;
using DiffusionGallery.Inference.Tests.Support;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;

namespace DiffusionGallery.Inference.Tests.Previews;

public sealed class PreviewMlpTests
{
    [Fact]
    public void Render_UsesTheMlpInsteadOfTheLinearFactors()
    {
        // hidden width 1: h1 = silu(z0), h2 = silu(2·h1), rgb = (h2, −h2, 0.5)
        var mlp = new PreviewMlp([[1f, 0f, 0f, 0f]], [0f], [[2f]], [0f], [[1f], [-1f], [0f]], [0f, 0f, 0.5f]);
        var factors = new PreviewFactors([[9f, 9f, 9f], [9f, 9f, 9f], [9f, 9f, 9f], [9f, 9f, 9f]], [0f, 0f, 0f], mlp);
        float[] latent = [1f, 0f, 0f, 0f]; // one pixel, channel 0 = 1

        var frame = new LatentPreviewer(factors).Render(latent, 1, 4, 1, 1)[0];

        static float Silu(float v) => v / (1f + MathF.Exp(-v));
        var h2 = Silu(2f * Silu(1f));
        byte Byte(float v) => (byte)(Math.Clamp((v + 1f) / 2f, 0f, 1f) * 255f);
        Assert.Equal([Byte(h2), Byte(-h2), Byte(0.5f)], frame.Rgb24);
    }

    [Fact]
    public void Manifest_ReadsTheMlpOfTheBundledModel()
    {
        var manifest = ModelManifest.Parse(File.ReadAllText(Path.Combine(TestPaths.RequireTinyModel(), ModelManifest.FileName)));

        var mlp = manifest.PreviewFactors?.Mlp;

        Assert.NotNull(mlp);
        Assert.True(mlp.IsWellFormed(4));
    }

    [Fact]
    public void BundledModelPreview_ResemblesTheDecodedImage()
    {
        // the final DPM++ 2M latent of the golden sample and the image the VAE decodes from it
        using var samples = Golden.Load("samples.json");
        var case0 = samples.RootElement.GetProperty("cases").EnumerateArray().First(c => c.GetProperty("sampler").GetString() == "dpmpp_2m");
        var latent = case0.GetProperty("latent").EnumerateArray().Select(v => v.GetSingle()).ToArray();
        using var decoded = Image.Load<Rgb24>(TestPaths.RequireGolden(case0.GetProperty("image").GetString()!));
        var factors = ModelManifest.Parse(File.ReadAllText(Path.Combine(TestPaths.RequireTinyModel(), ModelManifest.FileName))).PreviewFactors!;

        var mlpError = BlockError(new LatentPreviewer(factors).Render(latent, 1, 4, 16, 16)[0], decoded);
        var linearError = BlockError(new LatentPreviewer(factors with { Mlp = null }).Render(latent, 1, 4, 16, 16)[0], decoded);

        Assert.True(mlpError < 0.12, $"preview differs from the decoded image by {mlpError:F3} on average (0..1 scale)");
        Assert.True(mlpError < linearError, $"the MLP preview ({mlpError:F3}) should beat the linear one ({linearError:F3})");
    }

    /// <summary>Mean absolute difference (0..1) between each preview pixel and the mean colour of its 8×8 block.</summary>
    private static double BlockError(Abstractions.PreviewFrame preview, Image<Rgb24> decoded)
    {
        double sum = 0;
        for (var by = 0; by < 16; by++)
        for (var bx = 0; bx < 16; bx++)
        {
            double r = 0, g = 0, b = 0;
            for (var y = 0; y < 8; y++)
            for (var x = 0; x < 8; x++)
            {
                var p = decoded[bx * 8 + x, by * 8 + y];
                r += p.R; g += p.G; b += p.B;
            }

            var i = (by * 16 + bx) * 3;
            sum += Math.Abs(preview.Rgb24[i] - r / 64) + Math.Abs(preview.Rgb24[i + 1] - g / 64) + Math.Abs(preview.Rgb24[i + 2] - b / 64);
        }

        return sum / (16 * 16 * 3 * 255.0);
    }
}
