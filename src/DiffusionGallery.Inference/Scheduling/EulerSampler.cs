using DiffusionGallery.Inference.Abstractions;

namespace DiffusionGallery.Inference.Scheduling;

/// <summary>Euler's method on the probability-flow ODE (Karras et al. Algorithm 2 with s_churn = 0).</summary>
public sealed class EulerSampler(NoiseSchedule schedule, int steps, bool karras) : SigmaSampler(schedule, steps, karras)
{
    public override SamplerKind Kind => SamplerKind.Euler;

    public override bool NeedsNoise(int step) => false;

    public override bool StepsLinearly => true;

    /// <summary>x' = x + (x − D)/σ·dt = (1 + dt/σ)·x − (dt/σ)·D.</summary>
    public override bool TakeLinearStep(int step, out LinearStep coefficients)
    {
        var sigma = Sigmas[step];
        var dt = Sigmas[step + 1] - sigma;
        var (cSkip, cOut) = OriginalSigmaCoefficients(sigma);
        coefficients = new LinearStep(cSkip, cOut, 1 + dt / sigma, -dt / sigma, 0);
        return true;
    }

    public override void Step(int step, ReadOnlySpan<float> modelOutput, Span<float> sample, ReadOnlySpan<float> noise, Span<float> denoised)
    {
        var sigma = Sigmas[step];
        var dt = Sigmas[step + 1] - sigma;
        PredictOriginalSigma(sigma, modelOutput, sample, denoised);
        for (var i = 0; i < sample.Length; i++)
        {
            var derivative = (sample[i] - (double)denoised[i]) / sigma;
            sample[i] = (float)(sample[i] + derivative * dt);
        }
    }
}
