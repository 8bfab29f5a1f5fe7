using DiffusionGallery.Inference.Abstractions;
using DiffusionGallery.Web.Lab;
using DiffusionGallery.Web.Tests.Support;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;

namespace DiffusionGallery.Web.Tests.Lab;

/// <summary>Reconstruct versus create on the bundled model (CPU, few steps), and the similarity measures the Lab shows.</summary>
public sealed class ImageToImageTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    /// <summary>The bundled model's recommended sampler (DPM++ 2M with Karras sigmas), few steps.</summary>
    private static GenerationRequest Request(long seed) => new()
    {
        Prompt = "a red circle on a blue background",
        Seed = seed,
        Steps = 10,
        Sampler = SamplerKind.DpmPlusPlus2M,
        KarrasSigmas = true,
        PreviewInterval = 0,
    };

    private static async Task<byte[]> InputImageAsync() =>
        (await BundledModel.Generator.GenerateAsync(Request(77) with { Prompt = "a small white heart at the top left over a sunset gradient" }, null, Ct)).Images[0].Png;

    [Fact]
    public async Task LowStrength_StaysCloserToTheInputThanHighStrength_ForEverySeed()
    {
        var input = await InputImageAsync();
        using var original = Image.Load<Rgb24>(input);
        foreach (var seed in new long[] { 1, 2, 3, 4 })
        {
            using var low = Image.Load<Rgb24>((await BundledModel.Generator.GenerateAsync(Request(seed) with { InitImage = input, Strength = 0.1f }, null, Ct)).Images[0].Png);
            using var high = Image.Load<Rgb24>((await BundledModel.Generator.GenerateAsync(Request(seed) with { InitImage = input, Strength = 0.9f }, null, Ct)).Images[0].Png);
            var (psnrLow, psnrHigh) = (ImageSimilarity.Psnr(original, low), ImageSimilarity.Psnr(original, high));
            Assert.True(psnrLow > psnrHigh, $"seed {seed}: PSNR at 0.1 = {psnrLow:F1} dB, at 0.9 = {psnrHigh:F1} dB");
            Assert.True(ImageSimilarity.Ssim(original, low) > ImageSimilarity.Ssim(original, high), $"seed {seed}: SSIM ordering");
        }
    }

    [Fact]
    public async Task StrengthOne_EqualsTextToImageWithTheSameSeed()
    {
        var input = await InputImageAsync();
        var fromImage = await BundledModel.Generator.GenerateAsync(Request(5) with { InitImage = input, Strength = 1f }, null, Ct);
        var fromText = await BundledModel.Generator.GenerateAsync(Request(5), null, Ct);

        using var a = Image.Load<Rgb24>(fromImage.Images[0].Png);
        using var b = Image.Load<Rgb24>(fromText.Images[0].Png);
        Assert.Equal(double.PositiveInfinity, ImageSimilarity.Psnr(a, b));
        Assert.Contains("Denoising strength: 1", fromImage.Images[0].ParametersText);
    }

    [Fact]
    public void Similarity_IdenticalIsPerfect_NoiseLowersBoth_MoreNoiseLowersMore()
    {
        using var clean = new Image<Rgb24>(64, 64);
        for (var y = 0; y < 64; y++)
        for (var x = 0; x < 64; x++)
            clean[x, y] = new Rgb24((byte)(x * 4), (byte)(y * 4), (byte)((x + y) * 2));
        using var slightly = Noisy(clean, 8, 1);
        using var heavily = Noisy(clean, 60, 1);

        Assert.Equal(double.PositiveInfinity, ImageSimilarity.Psnr(clean, clean));
        Assert.Equal(1.0, ImageSimilarity.Ssim(clean, clean), 9);
        Assert.True(ImageSimilarity.Psnr(clean, slightly) > ImageSimilarity.Psnr(clean, heavily));
        Assert.True(ImageSimilarity.Ssim(clean, slightly) > ImageSimilarity.Ssim(clean, heavily));
        Assert.InRange(ImageSimilarity.Psnr(clean, slightly), 25, 40); // σ ≈ 8/√3 per channel → about 33 dB
    }

    private static Image<Rgb24> Noisy(Image<Rgb24> source, int amplitude, int seed)
    {
        var random = new Random(seed);
        var copy = source.Clone();
        for (var y = 0; y < copy.Height; y++)
        for (var x = 0; x < copy.Width; x++)
        {
            var p = copy[x, y];
            byte Jitter(byte v) => (byte)Math.Clamp(v + random.Next(-amplitude, amplitude + 1), 0, 255);
            copy[x, y] = new Rgb24(Jitter(p.R), Jitter(p.G), Jitter(p.B));
        }
        return copy;
    }
}
