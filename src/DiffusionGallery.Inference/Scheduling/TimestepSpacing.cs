namespace DiffusionGallery.Inference.Scheduling;

/// <summary>diffusers' timestep spacings (pipeline-notes §3): which training timesteps N inference steps visit.</summary>
public static class TimestepSpacing
{
    public const string Leading = "leading";
    public const string Linspace = "linspace";
    public const string Trailing = "trailing";

    /// <summary>Descending timesteps for <paramref name="steps"/> steps.</summary>
    /// <param name="round">Round linspace values to integers (DDIM/DDPM) or keep them fractional (Euler family).</param>
    public static double[] Compute(string spacing, int trainSteps, int steps, int stepsOffset, bool round)
    {
        var result = new double[steps];
        switch (spacing)
        {
            case Linspace:
            {
                var values = NoiseSchedule.Linspace(0, trainSteps - 1, steps);
                for (var i = 0; i < steps; i++)
                    result[i] = round ? Math.Round(values[steps - 1 - i]) : values[steps - 1 - i];
                break;
            }
            case Leading:
            {
                var ratio = trainSteps / steps;
                for (var i = 0; i < steps; i++)
                    result[i] = (double)(steps - 1 - i) * ratio + stepsOffset;
                break;
            }
            case Trailing:
                return TrailingValues(trainSteps, steps);
            default:
                throw new ArgumentException($"Unsupported timestep_spacing '{spacing}'.", nameof(spacing));
        }

        return result;
    }

    /// <summary>round(arange(T, 0, −T/n)) − 1.</summary>
    internal static double[] TrailingValues(int trainSteps, int steps)
    {
        var ratio = (double)trainSteps / steps;
        var list = new List<double>(steps);
        for (var i = 0; ; i++)
        {
            var v = trainSteps - i * ratio;
            if (v <= 0)
                break;
            list.Add(Math.Round(v) - 1);
        }

        return list.ToArray();
    }
}
