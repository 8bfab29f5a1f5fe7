using DiffusionGallery.Inference.Abstractions;
using DiffusionGallery.Inference.Noise;
using DiffusionGallery.Inference.Scheduling;

namespace DiffusionGallery.Inference.Tests.Scheduling;

/// <summary>
/// With an oracle "UNet" that predicts the exact noise of a known clean latent, every sampler must land on that
/// latent: a check of the update formulas that does not depend on any model.
/// </summary>
public sealed class SamplerConvergenceTests
{
    private const int Length = 64;
    private static readonly NoiseSchedule Schedule = new(SchedulerConfig.StableDiffusion with { SetAlphaToOne = true });

    [Theory]
    [InlineData(SamplerKind.Ddim, false)]
    [InlineData(SamplerKind.Ddpm, false)]
    [InlineData(SamplerKind.Euler, false)]
    [InlineData(SamplerKind.Euler, true)]
    [InlineData(SamplerKind.EulerAncestral, false)]
    [InlineData(SamplerKind.Lms, false)]
    [InlineData(SamplerKind.Lms, true)]
    [InlineData(SamplerKind.DpmPlusPlus2M, false)]
    [InlineData(SamplerKind.DpmPlusPlus2M, true)]
    [InlineData(SamplerKind.Lcm, false)]
    public void Sampler_WithExactNoisePrediction_ReachesTheCleanLatent(SamplerKind kind, bool karras)
    {
        var clean = new float[Length];
        PhiloxNoiseGenerator.Fill(3, 0, clean);
        var sampler = SamplerFactory.Create(kind, Schedule, kind == SamplerKind.Lcm ? 4 : 20, karras, eta: 0);
        var final = RunWithOracle(sampler, clean, seed: 11);

        for (var i = 0; i < Length; i++)
            Assert.Equal(clean[i], final[i], 3);
    }

    [Fact]
    public void Ddim_WithEta_ConsumesNoiseAndStillConverges()
    {
        var clean = new float[Length];
        PhiloxNoiseGenerator.Fill(5, 0, clean);
        var sampler = SamplerFactory.Create(SamplerKind.Ddim, Schedule, 20, eta: 1);

        Assert.True(sampler.NeedsNoise(0));
        var final = RunWithOracle(sampler, clean, seed: 2);
        for (var i = 0; i < Length; i++)
            Assert.Equal(clean[i], final[i], 3);
    }

    [Fact]
    public void DeterministicSamplers_NeedNoNoise()
    {
        foreach (var kind in new[] { SamplerKind.Ddim, SamplerKind.Euler, SamplerKind.Lms, SamplerKind.DpmPlusPlus2M })
        {
            var sampler = SamplerFactory.Create(kind, Schedule, 10);
            Assert.All(Enumerable.Range(0, 10), s => Assert.False(sampler.NeedsNoise(s)));
        }
    }

    [Fact]
    public void Lms_FirstOrderCoefficientIsTheSigmaStep()
    {
        var sampler = (LmsSampler)SamplerFactory.Create(SamplerKind.Lms, Schedule, 10);

        Assert.Equal(sampler.Sigmas[1] - sampler.Sigmas[0], sampler.Coefficient(1, 0, 0), 12);
        // The Lagrange basis sums to one, so the coefficients of any order sum to the step.
        var sum = Enumerable.Range(0, 4).Sum(j => sampler.Coefficient(4, 5, j));
        Assert.Equal(sampler.Sigmas[6] - sampler.Sigmas[5], sum, 10);
    }

    private static float[] RunWithOracle(Sampler sampler, float[] clean, ulong seed)
    {
        var generator = new PhiloxNoiseGenerator(seed);
        var noise = new float[Length];
        generator.Fill(noise);
        var x = noise.Select(n => (float)(n * sampler.InitNoiseSigma)).ToArray();
        var output = new float[Length];
        var denoised = new float[Length];
        var fresh = new float[Length];
        for (var step = 0; step < sampler.StepCount; step++)
        {
            var scale = sampler.InputScale(step);
            // Variance-preserving ᾱ of what the UNet sees at this step.
            var alpha = sampler.Sigmas.Count > 0
                ? 1 / (sampler.Sigmas[step] * sampler.Sigmas[step] + 1)
                : Schedule.AlphaCumprodAt((int)sampler.Timesteps[step]);
            for (var i = 0; i < Length; i++)
                output[i] = (float)((x[i] * scale - Math.Sqrt(alpha) * clean[i]) / Math.Sqrt(1 - alpha));
            ReadOnlySpan<float> stepNoise = default;
            if (sampler.NeedsNoise(step))
            {
                generator.Fill(fresh);
                stepNoise = fresh;
            }

            sampler.Step(step, output, x, stepNoise, denoised);
        }

        return x;
    }
}
