using DiffusionGallery.Inference.Models;
using DiffusionGallery.Inference.Noise;
using DiffusionGallery.Inference.Scheduling;
using DiffusionGallery.Web.Tests.Support;

namespace DiffusionGallery.Web.Tests.Lab;

/// <summary>The forward process the Lab shows, against its closed form q(xₜ | x₀) = 𝒩(√ᾱₜ·x₀, (1−ᾱₜ)·I).</summary>
public sealed class ForwardNoisingTests
{
    private static readonly NoiseSchedule Schedule = new(ModelInfo.Read(Path.Combine(RepoPaths.Models, "tiny-shapes")).Scheduler);

    [Theory]
    [InlineData(0)]
    [InlineData(50)]
    [InlineData(250)]
    [InlineData(500)]
    [InlineData(750)]
    [InlineData(999)]
    public void NoisedLatent_MeanAndVarianceMatchTheClosedForm_OnALargeSample(int t)
    {
        // A fixed "image" latent x₀ with structure (not zero mean, not unit variance) and one million Philox noise draws.
        const int n = 1_000_000;
        var clean = new float[n];
        for (var i = 0; i < n; i++) clean[i] = 1.5f * MathF.Sin(i * 0.001f) + 0.4f;
        var noise = new float[n];
        PhiloxNoiseGenerator.Fill(2026, 0, noise);
        var noised = new float[n];

        ForwardDiffusion.AddNoise(Schedule, t, clean, noise, noised);

        var alphaBar = Schedule.AlphasCumprod[t];
        double sum = 0, sumSq = 0, slopeNumerator = 0, slopeDenominator = 0;
        for (var i = 0; i < n; i++)
        {
            var residual = noised[i] - Math.Sqrt(alphaBar) * clean[i]; // should be 𝒩(0, 1−ᾱ)
            sum += residual;
            sumSq += residual * residual;
            slopeNumerator += noised[i] * (double)clean[i];
            slopeDenominator += clean[i] * (double)clean[i];
        }
        var mean = sum / n;
        var variance = sumSq / n - mean * mean;
        var expectedVariance = 1 - alphaBar;
        // Sampling error of a mean of n draws with variance σ² is σ/√n; of the variance, σ²·√(2/n). Allow 5 standard errors.
        Assert.InRange(mean, -5 * Math.Sqrt(expectedVariance / n), 5 * Math.Sqrt(expectedVariance / n));
        Assert.InRange(variance, expectedVariance * (1 - 5 * Math.Sqrt(2.0 / n)) - 1e-7, expectedVariance * (1 + 5 * Math.Sqrt(2.0 / n)) + 1e-7);
        // E[xₜ | x₀] = √ᾱ·x₀: the least-squares slope of xₜ on x₀ is √ᾱ.
        var slope = slopeNumerator / slopeDenominator;
        Assert.InRange(slope, Math.Sqrt(alphaBar) - 5 * Math.Sqrt(expectedVariance / slopeDenominator) - 1e-6, Math.Sqrt(alphaBar) + 5 * Math.Sqrt(expectedVariance / slopeDenominator) + 1e-6);
    }

    [Fact]
    public void Schedule_AlphaBarFallsFromAboutOneToAboutZero_Monotonically()
    {
        Assert.InRange(Schedule.AlphasCumprod[0], 0.99, 1.0);
        Assert.InRange(Schedule.AlphasCumprod[^1], 0.0, 0.02);
        for (var t = 1; t < Schedule.TrainTimesteps; t++) Assert.True(Schedule.AlphasCumprod[t] < Schedule.AlphasCumprod[t - 1]);
    }
}
