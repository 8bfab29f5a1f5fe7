using DiffusionGallery.Inference.Abstractions;

namespace DiffusionGallery.Inference.Scheduling;

/// <summary>DDIM (Song et al.): deterministic at η = 0, η > 0 adds fresh noise each step.</summary>
public sealed class DdimSampler : Sampler
{
    private readonly double _eta;

    public DdimSampler(NoiseSchedule schedule, int steps, double eta)
        : base(schedule, TimestepSpacing.Compute(schedule.Config.TimestepSpacing ?? TimestepSpacing.Leading,
            schedule.TrainTimesteps, steps, schedule.Config.StepsOffset, round: true), [])
    {
        _eta = eta;
    }

    public override SamplerKind Kind => SamplerKind.Ddim;

    public override bool NeedsNoise(int step) => _eta > 0;

    public override void Step(int step, ReadOnlySpan<float> modelOutput, Span<float> sample, ReadOnlySpan<float> noise, Span<float> denoised)
    {
        var t = (int)Timesteps[step];
        var prev = t - Schedule.TrainTimesteps / StepCount;
        var alpha = Schedule.AlphaCumprodAt(t);
        var alphaPrev = Schedule.AlphaCumprodAt(prev);
        var variance = (1 - alphaPrev) / (1 - alpha) * (1 - alpha / alphaPrev);
        var std = _eta * Math.Sqrt(variance);
        var direction = Math.Sqrt(Math.Max(1 - alphaPrev - std * std, 0));
        var sqrtAlpha = Math.Sqrt(alpha);
        var sqrtBeta = Math.Sqrt(1 - alpha);
        var sqrtAlphaPrev = Math.Sqrt(alphaPrev);
        var addNoise = _eta > 0;
        for (var i = 0; i < sample.Length; i++)
        {
            var (x0, eps) = PredictDiscrete(sqrtAlpha, sqrtBeta, sample[i], modelOutput[i]);
            denoised[i] = (float)x0;
            var next = sqrtAlphaPrev * x0 + direction * eps;
            if (addNoise)
                next += std * noise[i];
            sample[i] = (float)next;
        }
    }
}
