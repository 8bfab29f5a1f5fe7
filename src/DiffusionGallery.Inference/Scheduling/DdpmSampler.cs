using DiffusionGallery.Inference.Abstractions;

namespace DiffusionGallery.Inference.Scheduling;

/// <summary>DDPM ancestral sampling with the <c>fixed_small</c> posterior variance.</summary>
public sealed class DdpmSampler : Sampler
{
    public DdpmSampler(NoiseSchedule schedule, int steps)
        : base(schedule, TimestepSpacing.Compute(schedule.Config.TimestepSpacing ?? TimestepSpacing.Leading,
            schedule.TrainTimesteps, steps, schedule.Config.StepsOffset, round: true), [])
    {
    }

    public override SamplerKind Kind => SamplerKind.Ddpm;

    public override bool NeedsNoise(int step) => Timesteps[step] > 0 && Timesteps[step] - Schedule.TrainTimesteps / StepCount >= 0;

    public override void Step(int step, ReadOnlySpan<float> modelOutput, Span<float> sample, ReadOnlySpan<float> noise, Span<float> denoised)
    {
        var t = (int)Timesteps[step];
        var prev = t - Schedule.TrainTimesteps / StepCount;
        var alpha = Schedule.AlphaCumprodAt(t);
        var alphaPrev = prev >= 0 ? Schedule.AlphasCumprod[prev] : 1.0;
        var beta = 1 - alpha;
        var betaPrev = 1 - alphaPrev;
        var currentAlpha = alpha / alphaPrev;
        var currentBeta = 1 - currentAlpha;
        var coefOriginal = Math.Sqrt(alphaPrev) * currentBeta / beta;
        var coefSample = Math.Sqrt(currentAlpha) * betaPrev / beta;
        var std = Math.Sqrt(Math.Max(betaPrev / beta * currentBeta, 1e-20));
        var addNoise = NeedsNoise(step);
        var sqrtAlpha = Math.Sqrt(alpha);
        var sqrtBeta = Math.Sqrt(beta);
        for (var i = 0; i < sample.Length; i++)
        {
            var (x0, _) = PredictDiscrete(sqrtAlpha, sqrtBeta, sample[i], modelOutput[i]);
            denoised[i] = (float)x0;
            var next = coefOriginal * x0 + coefSample * sample[i];
            if (addNoise)
                next += std * noise[i];
            sample[i] = (float)next;
        }
    }
}
