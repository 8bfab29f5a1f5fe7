namespace DiffusionGallery.Inference.Scheduling;

/// <summary>
/// Base of the k-diffusion style samplers (Euler, Euler ancestral, LMS): the sample lives in σ-space
/// (x = x₀ + σ·ε), the UNet sees x/√(σ²+1) and fractional timesteps interpolated from the σ table.
/// </summary>
public abstract class SigmaSampler : Sampler
{
    protected SigmaSampler(NoiseSchedule schedule, int steps, bool karras)
        : this(schedule, BuildSchedule(schedule, steps, karras))
    {
    }

    private SigmaSampler(NoiseSchedule schedule, (double[] Timesteps, double[] Sigmas) built)
        : base(schedule, built.Timesteps, built.Sigmas)
    {
        var spacing = schedule.Config.TimestepSpacing ?? TimestepSpacing.Linspace;
        var max = built.Sigmas.Max();
        InitNoiseSigma = spacing is TimestepSpacing.Linspace or TimestepSpacing.Trailing ? max : Math.Sqrt(max * max + 1);
    }

    public override double InitNoiseSigma { get; }

    public override float InputScale(int step)
    {
        var sigma = Sigmas[step];
        return (float)(1 / Math.Sqrt(sigma * sigma + 1));
    }

    public override double SigmaAt(int step) => Sigmas[step];

    public override void AddNoise(int step, ReadOnlySpan<float> clean, ReadOnlySpan<float> noise, Span<float> destination)
    {
        var sigma = Sigmas[step];
        for (var i = 0; i < clean.Length; i++)
            destination[i] = (float)(clean[i] + sigma * noise[i]);
    }

    private static (double[] Timesteps, double[] Sigmas) BuildSchedule(NoiseSchedule schedule, int steps, bool karras)
    {
        var spacing = schedule.Config.TimestepSpacing ?? TimestepSpacing.Linspace;
        var timesteps = TimestepSpacing.Compute(spacing, schedule.TrainTimesteps, steps, schedule.Config.StepsOffset, round: false);
        var sigmas = timesteps.Select(schedule.SigmaAt).ToArray();
        if (karras)
        {
            // Bounds from the whole training table and rounded timesteps, as tools/tiny-model/reference.py does.
            sigmas = NoiseSchedule.KarrasSigmas(schedule.SigmaTable[0], schedule.SigmaTable[^1], steps);
            timesteps = sigmas.Select(s => Math.Round(schedule.SigmaToTimestep(s))).ToArray();
        }

        return (timesteps, [.. sigmas, 0.0]);
    }
}
