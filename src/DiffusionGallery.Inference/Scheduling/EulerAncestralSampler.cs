using DiffusionGallery.Inference.Abstractions;

namespace DiffusionGallery.Inference.Scheduling;

/// <summary>Euler ancestral: an Euler step down to σ_down, then fresh noise of size σ_up.</summary>
public sealed class EulerAncestralSampler(NoiseSchedule schedule, int steps, bool karras) : SigmaSampler(schedule, steps, karras)
{
    public override SamplerKind Kind => SamplerKind.EulerAncestral;

    public override bool NeedsNoise(int step) => Sigmas[step + 1] > 0;

    public override void Step(int step, ReadOnlySpan<float> modelOutput, Span<float> sample, ReadOnlySpan<float> noise, Span<float> denoised)
    {
        var sigmaFrom = Sigmas[step];
        var sigmaTo = Sigmas[step + 1];
        var sigmaUp = Math.Sqrt(sigmaTo * sigmaTo * (sigmaFrom * sigmaFrom - sigmaTo * sigmaTo) / (sigmaFrom * sigmaFrom));
        var sigmaDown = Math.Sqrt(sigmaTo * sigmaTo - sigmaUp * sigmaUp);
        var dt = sigmaDown - sigmaFrom;
        PredictOriginalSigma(sigmaFrom, modelOutput, sample, denoised);
        for (var i = 0; i < sample.Length; i++)
        {
            var derivative = (sample[i] - (double)denoised[i]) / sigmaFrom;
            var next = sample[i] + derivative * dt;
            sample[i] = (float)(sigmaUp > 0 ? next + noise[i] * sigmaUp : next);
        }
    }
}
