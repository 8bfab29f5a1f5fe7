using DiffusionGallery.Inference.Abstractions;

namespace DiffusionGallery.Inference.Scheduling;

/// <summary>
/// DPM-Solver++(2M) (Lu et al.), midpoint variant, final sigma 0 (the last step is first order).
/// Works in variance-preserving space: x = αₜ·x₀ + sₜ·ε with αₜ = 1/√(σ²+1), sₜ = σ·αₜ.
/// </summary>
public sealed class DpmSolverMultistepSampler : Sampler
{
    private float[]? _previousDenoised;
    private int _lowerOrderSteps;

    public DpmSolverMultistepSampler(NoiseSchedule schedule, int steps, bool karras)
        : this(schedule, BuildSchedule(schedule, steps, karras))
    {
    }

    private DpmSolverMultistepSampler(NoiseSchedule schedule, (double[] Timesteps, double[] Sigmas) built)
        : base(schedule, built.Timesteps, built.Sigmas)
    {
    }

    public override SamplerKind Kind => SamplerKind.DpmPlusPlus2M;

    public override bool NeedsNoise(int step) => false;

    public override double SigmaAt(int step) => Sigmas[step];

    public override void AddNoise(int step, ReadOnlySpan<float> clean, ReadOnlySpan<float> noise, Span<float> destination)
    {
        var (alpha, scale) = AlphaSigma(Sigmas[step]);
        for (var i = 0; i < clean.Length; i++)
            destination[i] = (float)(alpha * clean[i] + scale * noise[i]);
    }

    public override void Step(int step, ReadOnlySpan<float> modelOutput, Span<float> sample, ReadOnlySpan<float> noise, Span<float> denoised)
    {
        var (alphaS0, scaleS0) = AlphaSigma(Sigmas[step]);
        var (alphaT, scaleT) = AlphaSigma(Sigmas[step + 1]);
        for (var i = 0; i < sample.Length; i++)
        {
            double x = sample[i], m = modelOutput[i];
            denoised[i] = IsEpsilon ? (float)((x - scaleS0 * m) / alphaS0)
                : IsVPrediction ? (float)(alphaS0 * x - scaleS0 * m)
                : (float)m;
        }

        var lambdaT = Math.Log(alphaT) - Math.Log(scaleT);
        var lambdaS0 = Math.Log(alphaS0) - Math.Log(scaleS0);
        var h = lambdaT - lambdaS0;
        var ratio = scaleT / scaleS0;
        var expTerm = alphaT * (Math.Exp(-h) - 1);
        var lastStep = step == StepCount - 1;
        if (_previousDenoised is null || _lowerOrderSteps < 1 || lastStep)
        {
            for (var i = 0; i < sample.Length; i++)
                sample[i] = (float)(ratio * sample[i] - expTerm * denoised[i]);
        }
        else
        {
            var (alphaS1, scaleS1) = AlphaSigma(Sigmas[step - 1]);
            var lambdaS1 = Math.Log(alphaS1) - Math.Log(scaleS1);
            var r0 = (lambdaS0 - lambdaS1) / h;
            for (var i = 0; i < sample.Length; i++)
            {
                double d0 = denoised[i];
                var d1 = (d0 - _previousDenoised[i]) / r0;
                sample[i] = (float)(ratio * sample[i] - expTerm * d0 - 0.5 * expTerm * d1);
            }
        }

        _previousDenoised ??= new float[sample.Length];
        denoised.CopyTo(_previousDenoised);
        _lowerOrderSteps++;
    }

    private static (double Alpha, double Scale) AlphaSigma(double sigma)
    {
        var alpha = 1 / Math.Sqrt(sigma * sigma + 1);
        return (alpha, sigma * alpha);
    }

    private static (double[] Timesteps, double[] Sigmas) BuildSchedule(NoiseSchedule schedule, int steps, bool karras)
    {
        var config = schedule.Config;
        var trainSteps = schedule.TrainTimesteps;
        var spacing = config.TimestepSpacing ?? TimestepSpacing.Linspace;
        double[] timesteps;
        switch (spacing)
        {
            case TimestepSpacing.Linspace:
            {
                var values = NoiseSchedule.Linspace(0, trainSteps - 1, steps + 1);
                timesteps = new double[steps];
                for (var i = 0; i < steps; i++)
                    timesteps[i] = Math.Round(values[steps - i]);
                break;
            }
            case TimestepSpacing.Leading:
            {
                var ratio = trainSteps / (steps + 1);
                timesteps = new double[steps];
                for (var i = 0; i < steps; i++)
                    timesteps[i] = (double)(steps - i) * ratio + config.StepsOffset;
                break;
            }
            case TimestepSpacing.Trailing:
                timesteps = TimestepSpacing.TrailingValues(trainSteps, steps);
                break;
            default:
                throw new ArgumentException($"Unsupported timestep_spacing '{spacing}'.");
        }

        double[] sigmas;
        if (karras)
        {
            sigmas = NoiseSchedule.KarrasSigmas(schedule.SigmaTable[0], schedule.SigmaTable[^1], steps);
            timesteps = sigmas.Select(s => Math.Round(schedule.SigmaToTimestep(s))).ToArray();
        }
        else
        {
            sigmas = timesteps.Select(schedule.SigmaAt).ToArray();
        }

        return (timesteps, [.. sigmas, 0.0]);
    }
}
