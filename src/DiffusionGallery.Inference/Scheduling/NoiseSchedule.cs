namespace DiffusionGallery.Inference.Scheduling;

/// <summary>The training noise schedule: betas, cumulative alphas (ᾱ) and the Karras sigma table σₜ = √((1−ᾱₜ)/ᾱₜ).</summary>
public sealed class NoiseSchedule
{
    public NoiseSchedule(SchedulerConfig config)
    {
        Config = config;
        var t = config.NumTrainTimesteps;
        var betas = config.TrainedBetas ?? config.BetaSchedule switch
        {
            "linear" => Linspace(config.BetaStart, config.BetaEnd, t),
            "scaled_linear" => Linspace(Math.Sqrt(config.BetaStart), Math.Sqrt(config.BetaEnd), t).Select(b => b * b).ToArray(),
            "squaredcos_cap_v2" => SquaredCosine(t),
            _ => throw new ArgumentException($"Unsupported beta_schedule '{config.BetaSchedule}'.", nameof(config)),
        };
        AlphasCumprod = new double[betas.Length];
        var product = 1.0;
        for (var i = 0; i < betas.Length; i++)
        {
            product *= 1.0 - betas[i];
            AlphasCumprod[i] = product;
        }

        Betas = betas;
        SigmaTable = AlphasCumprod.Select(a => Math.Sqrt((1 - a) / a)).ToArray();
        LogSigmaTable = SigmaTable.Select(s => Math.Log(s)).ToArray();
    }

    public SchedulerConfig Config { get; }
    public int TrainTimesteps => AlphasCumprod.Length;
    public IReadOnlyList<double> Betas { get; }
    public double[] AlphasCumprod { get; }
    public double[] SigmaTable { get; }
    internal double[] LogSigmaTable { get; }

    /// <summary>ᾱ at an integer timestep; negative timesteps mean "before the first" (1 or ᾱ₀ per <c>set_alpha_to_one</c>).</summary>
    public double AlphaCumprodAt(int timestep, bool? alphaOneBeforeStart = null) =>
        timestep >= 0 ? AlphasCumprod[timestep] : (alphaOneBeforeStart ?? Config.SetAlphaToOne) ? 1.0 : AlphasCumprod[0];

    /// <summary>σ at a possibly fractional timestep (linear interpolation in the table, as numpy.interp).</summary>
    public double SigmaAt(double timestep)
    {
        if (timestep <= 0)
            return SigmaTable[0];
        if (timestep >= SigmaTable.Length - 1)
            return SigmaTable[^1];
        var low = (int)Math.Floor(timestep);
        var w = timestep - low;
        return SigmaTable[low] + w * (SigmaTable[low + 1] - SigmaTable[low]);
    }

    /// <summary>Fractional timestep for a sigma by log-sigma interpolation (diffusers <c>_sigma_to_t</c>).</summary>
    public double SigmaToTimestep(double sigma)
    {
        var logSigma = Math.Log(Math.Max(sigma, 1e-10));
        var table = LogSigmaTable;
        var lowIndex = 0;
        for (var i = 0; i < table.Length; i++)
        {
            if (logSigma - table[i] >= 0)
                lowIndex = i;
        }

        lowIndex = Math.Min(lowIndex, table.Length - 2);
        var low = table[lowIndex];
        var high = table[lowIndex + 1];
        var w = Math.Clamp((low - logSigma) / (low - high), 0, 1);
        return (1 - w) * lowIndex + w * (lowIndex + 1);
    }

    /// <summary>Karras et al. (2022) sigmas between two bounds, ρ = 7.</summary>
    public static double[] KarrasSigmas(double sigmaMin, double sigmaMax, int count, double rho = 7.0)
    {
        var minInv = Math.Pow(sigmaMin, 1 / rho);
        var maxInv = Math.Pow(sigmaMax, 1 / rho);
        var result = new double[count];
        for (var i = 0; i < count; i++)
        {
            var ramp = count == 1 ? 0 : (double)i / (count - 1);
            result[i] = Math.Pow(maxInv + ramp * (minInv - maxInv), rho);
        }

        return result;
    }

    internal static double[] Linspace(double start, double end, int count)
    {
        var result = new double[count];
        if (count == 1)
        {
            result[0] = start;
            return result;
        }

        var step = (end - start) / (count - 1);
        for (var i = 0; i < count; i++)
            result[i] = start + step * i;
        result[^1] = end;
        return result;
    }

    private static double[] SquaredCosine(int count)
    {
        static double AlphaBar(double t) => Math.Pow(Math.Cos((t + 0.008) / 1.008 * Math.PI / 2), 2);
        var betas = new double[count];
        for (var i = 0; i < count; i++)
            betas[i] = Math.Min(1 - AlphaBar((i + 1.0) / count) / AlphaBar((double)i / count), 0.999);
        return betas;
    }
}
