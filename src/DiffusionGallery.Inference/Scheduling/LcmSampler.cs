using DiffusionGallery.Inference.Abstractions;

namespace DiffusionGallery.Inference.Scheduling;

/// <summary>Latent Consistency Model multistep sampling (diffusers <c>LCMScheduler</c>).</summary>
public sealed class LcmSampler : Sampler
{
    private const double SigmaData = 0.5;

    public LcmSampler(NoiseSchedule schedule, int steps)
        : base(schedule, ComputeTimesteps(schedule.Config, schedule.TrainTimesteps, steps), [])
    {
    }

    public override SamplerKind Kind => SamplerKind.Lcm;

    public override bool NeedsNoise(int step) => step != StepCount - 1;

    internal static double[] ComputeTimesteps(SchedulerConfig config, int trainSteps, int steps)
    {
        var original = config.OriginalInferenceSteps;
        if (steps > original)
            throw new ArgumentOutOfRangeException(nameof(steps), $"LCM supports at most {original} steps (original_inference_steps).");
        var k = trainSteps / original;
        var origin = new double[original];
        for (var i = 0; i < original; i++)
            origin[i] = (original - i) * k - 1; // reversed arange(1, original+1)·k − 1
        var result = new double[steps];
        for (var i = 0; i < steps; i++)
            result[i] = origin[(int)Math.Floor((double)i * original / steps)];
        return result;
    }

    public override void Step(int step, ReadOnlySpan<float> modelOutput, Span<float> sample, ReadOnlySpan<float> noise, Span<float> denoised)
    {
        var t = (int)Timesteps[step];
        var prev = step + 1 < StepCount ? (int)Timesteps[step + 1] : t;
        var alpha = Schedule.AlphaCumprodAt(t);
        var alphaPrev = Schedule.AlphaCumprodAt(prev);
        var scaled = t * Config.TimestepScaling;
        var cSkip = SigmaData * SigmaData / (scaled * scaled + SigmaData * SigmaData);
        var cOut = scaled / Math.Sqrt(scaled * scaled + SigmaData * SigmaData);
        var last = step == StepCount - 1;
        var sqrtAlpha = Math.Sqrt(alpha);
        var sqrtBeta = Math.Sqrt(1 - alpha);
        var sqrtAlphaPrev = Math.Sqrt(alphaPrev);
        var sqrtBetaPrev = Math.Sqrt(1 - alphaPrev);
        for (var i = 0; i < sample.Length; i++)
        {
            var (x0, _) = PredictDiscrete(sqrtAlpha, sqrtBeta, sample[i], modelOutput[i]);
            var d = cOut * x0 + cSkip * sample[i];
            denoised[i] = (float)d;
            sample[i] = last ? (float)d : (float)(sqrtAlphaPrev * d + sqrtBetaPrev * noise[i]);
        }
    }
}
