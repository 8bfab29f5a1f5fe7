using System.Numerics;
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

    public override bool StepsLinearly => true;

    /// <summary>
    /// D from the model output (ε: (x − s·m)/α; v: α·x − s·m; sample: m), then x' = ratio·x − e·D for a first-order
    /// step and x' = ratio·x − e·D − ½e·(D − P)/r₀ for a second-order one (e = α_t·(e^{−h} − 1)).
    /// </summary>
    public override bool TakeLinearStep(int step, out LinearStep coefficients)
    {
        var c = Coefficients(step, out var firstOrder);
        var (cSkip, cOut) = IsEpsilon ? (1 / c.AlphaS0, -c.ScaleS0 / c.AlphaS0)
            : IsVPrediction ? (c.AlphaS0, -c.ScaleS0)
            : (0, 1);
        coefficients = firstOrder
            ? new LinearStep(cSkip, cOut, c.Ratio, -c.ExpTerm, 0)
            : new LinearStep(cSkip, cOut, c.Ratio, -c.ExpTerm - 0.5 * c.ExpTerm / c.R0, 0.5 * c.ExpTerm / c.R0);
        _previousDenoised = null; // (the history is the caller's now, until it hands it back)
        _lowerOrderSteps++;
        return true;
    }

    public override void AdoptHistory(ReadOnlySpan<float> previousDenoised)
    {
        _previousDenoised ??= new float[previousDenoised.Length];
        previousDenoised.CopyTo(_previousDenoised);
    }

    private StepCoefficients Coefficients(int step, out bool firstOrder)
    {
        var (alphaS0, scaleS0) = AlphaSigma(Sigmas[step]);
        var (alphaT, scaleT) = AlphaSigma(Sigmas[step + 1]);
        var lambdaT = Math.Log(alphaT) - Math.Log(scaleT);
        var lambdaS0 = Math.Log(alphaS0) - Math.Log(scaleS0);
        var h = lambdaT - lambdaS0;
        var ratio = scaleT / scaleS0;
        var expTerm = alphaT * (Math.Exp(-h) - 1);
        var lastStep = step == StepCount - 1;
        firstOrder = _lowerOrderSteps < 1 || lastStep;
        var r0 = 1.0;
        if (!firstOrder)
        {
            var (alphaS1, scaleS1) = AlphaSigma(Sigmas[step - 1]);
            var lambdaS1 = Math.Log(alphaS1) - Math.Log(scaleS1);
            r0 = (lambdaS0 - lambdaS1) / h;
        }

        return new StepCoefficients(alphaS0, scaleS0, ratio, expTerm, r0);
    }

    public override void Step(int step, ReadOnlySpan<float> modelOutput, Span<float> sample, ReadOnlySpan<float> noise, Span<float> denoised)
    {
        var coefficients = Coefficients(step, out var firstOrder);
        var (alphaS0, scaleS0, ratio, expTerm, r0) = coefficients;
        if (!firstOrder && _previousDenoised is null)
            throw new InvalidOperationException("A second-order step needs the previous denoised prediction: linear steps were taken without handing it back (AdoptHistory).");
        var done = IsEpsilon && !firstOrder ? StepEpsilonVector(coefficients, modelOutput, sample, denoised, _previousDenoised)
            : IsEpsilon ? StepEpsilonVector(coefficients, modelOutput, sample, denoised, null)
            : 0;
        // the rest (and every element of v-prediction and sample models) element by element, with the same arithmetic
        for (var i = done; i < sample.Length; i++)
        {
            double x = sample[i], m = modelOutput[i];
            denoised[i] = IsEpsilon ? (float)((x - scaleS0 * m) / alphaS0)
                : IsVPrediction ? (float)(alphaS0 * x - scaleS0 * m)
                : (float)m;
        }

        if (firstOrder)
        {
            for (var i = done; i < sample.Length; i++)
                sample[i] = (float)(ratio * sample[i] - expTerm * denoised[i]);
        }
        else
        {
            for (var i = done; i < sample.Length; i++)
            {
                double d0 = denoised[i];
                var d1 = (d0 - _previousDenoised![i]) / r0;
                sample[i] = (float)(ratio * sample[i] - expTerm * d0 - 0.5 * expTerm * d1);
            }
        }

        _previousDenoised ??= new float[sample.Length];
        denoised.CopyTo(_previousDenoised);
        _lowerOrderSteps++;
    }

    /// <summary>One step's constants: σ-space α and s at the current sigma, the update's ratio and exponential term, r₀.</summary>
    internal readonly record struct StepCoefficients(double AlphaS0, double ScaleS0, double Ratio, double ExpTerm, double R0);

    /// <summary>
    /// The ε-prediction step over whole SIMD vectors, in double precision with the scalar loop's operations in the same
    /// order (each float widened exactly, each result rounded once to float), so its results are bit for bit the scalar
    /// loop's; <paramref name="previous"/> null = first order. Returns how many elements it did (the rest are the
    /// caller's). At 128² (1,024 values an image) this is most of a shared run's sampler time on the step loop's thread.
    /// </summary>
    internal static int StepEpsilonVector(in StepCoefficients c, ReadOnlySpan<float> modelOutput, Span<float> sample, Span<float> denoised, float[]? previous)
    {
        if (!Vector.IsHardwareAccelerated)
            return 0;
        var width = Vector<float>.Count;
        var end = sample.Length - sample.Length % width;
        var (alpha, scale, ratio, expTerm, r0) = (new Vector<double>(c.AlphaS0), new Vector<double>(c.ScaleS0), new Vector<double>(c.Ratio),
            new Vector<double>(c.ExpTerm), new Vector<double>(c.R0));
        var halfExp = new Vector<double>(0.5 * c.ExpTerm);
        for (var i = 0; i < end; i += width)
        {
            Vector.Widen(new Vector<float>(sample[i..]), out var xLow, out var xHigh);
            Vector.Widen(new Vector<float>(modelOutput[i..]), out var mLow, out var mHigh);
            var d = Vector.Narrow((xLow - scale * mLow) / alpha, (xHigh - scale * mHigh) / alpha);
            d.CopyTo(denoised[i..]);
            Vector.Widen(d, out var dLow, out var dHigh);
            Vector<float> next;
            if (previous is null)
            {
                next = Vector.Narrow(ratio * xLow - expTerm * dLow, ratio * xHigh - expTerm * dHigh);
            }
            else
            {
                Vector.Widen(new Vector<float>(previous.AsSpan(i)), out var pLow, out var pHigh);
                next = Vector.Narrow(ratio * xLow - expTerm * dLow - halfExp * ((dLow - pLow) / r0),
                    ratio * xHigh - expTerm * dHigh - halfExp * ((dHigh - pHigh) / r0));
            }

            next.CopyTo(sample[i..]);
        }

        return end;
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
