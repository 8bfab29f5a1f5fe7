using DiffusionGallery.Inference.Abstractions;
using DiffusionGallery.Inference.Pipeline;
using DiffusionGallery.Inference.Scheduling;

namespace DiffusionGallery.Inference.Tests.Scheduling;

/// <summary>
/// The SIMD paths of the step loop's hot arithmetic (DPM++ 2M's ε step, CFG) give bit for bit what the element-by-element
/// formulas give: images stay reproducible across builds and machines with or without vector hardware.
/// </summary>
public sealed class VectorisedStepTests
{
    private static readonly NoiseSchedule Sd15 = new(SchedulerConfig.StableDiffusion);

    /// <summary>The DPM++ 2M ε step as written element by element (the formula the vector path must reproduce exactly).</summary>
    private sealed class ScalarDpm(IReadOnlyList<double> sigmas)
    {
        private float[]? _previous;
        private int _done;

        public void Step(int step, float[] output, float[] sample, float[] denoised)
        {
            static (double A, double S) AlphaSigma(double sigma)
            {
                var alpha = 1 / Math.Sqrt(sigma * sigma + 1);
                return (alpha, sigma * alpha);
            }

            var (a0, s0) = AlphaSigma(sigmas[step]);
            var (aT, sT) = AlphaSigma(sigmas[step + 1]);
            for (var i = 0; i < sample.Length; i++)
                denoised[i] = (float)((sample[i] - s0 * (double)output[i]) / a0);
            var h = Math.Log(aT) - Math.Log(sT) - (Math.Log(a0) - Math.Log(s0));
            var ratio = sT / s0;
            var expTerm = aT * (Math.Exp(-h) - 1);
            if (_previous is null || _done < 1 || step == sigmas.Count - 2)
            {
                for (var i = 0; i < sample.Length; i++)
                    sample[i] = (float)(ratio * sample[i] - expTerm * denoised[i]);
            }
            else
            {
                var (a1, s1) = AlphaSigma(sigmas[step - 1]);
                var r0 = (Math.Log(a0) - Math.Log(s0) - (Math.Log(a1) - Math.Log(s1))) / h;
                for (var i = 0; i < sample.Length; i++)
                {
                    double d0 = denoised[i];
                    var d1 = (d0 - _previous[i]) / r0;
                    sample[i] = (float)(ratio * sample[i] - expTerm * d0 - 0.5 * expTerm * d1);
                }
            }

            _previous = (float[])denoised.Clone();
            _done++;
        }
    }

    private static float[] Random(int length, int seed, float spread)
    {
        var random = new Random(seed);
        return Enumerable.Range(0, length).Select(_ => (float)((random.NextDouble() * 2 - 1) * spread)).ToArray();
    }

    [Theory]
    [InlineData(1024, false)] // the bundled model's 16×16×4 latent
    [InlineData(1027, true)] // not a multiple of any vector width: the tail goes element by element
    [InlineData(5, false)] // shorter than one vector
    public void DpmPlusPlus2M_EpsilonSteps_AreBitForBitTheElementwiseFormula(int length, bool karras)
    {
        var sampler = SamplerFactory.Create(SamplerKind.DpmPlusPlus2M, Sd15, 12, karras);
        var reference = new ScalarDpm(sampler.Sigmas);
        var sample = Random(length, 1, 14f);
        var expected = (float[])sample.Clone();
        var denoised = new float[length];
        var expectedDenoised = new float[length];
        for (var step = 0; step < sampler.StepCount; step++)
        {
            var output = Random(length, 100 + step, 3f);
            sampler.Step(step, output, sample, default, denoised);
            reference.Step(step, output, expected, expectedDenoised);
            Assert.Equal(expectedDenoised, denoised); // (exact float equality, element by element)
            Assert.Equal(expected, sample);
        }
    }

    [Theory]
    [InlineData(1024)]
    [InlineData(37)]
    public void Combine_IsBitForBitTheElementwiseFormula(int length)
    {
        var uncond = Random(length, 7, 2f);
        var cond = Random(length, 8, 2f);
        var guided = new float[length];

        GuidanceMath.Combine(uncond, cond, 7.5f, guided);

        Assert.Equal(Enumerable.Range(0, length).Select(i => uncond[i] + 7.5f * (cond[i] - uncond[i])), guided);
    }
}
