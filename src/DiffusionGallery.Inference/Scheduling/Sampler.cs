using DiffusionGallery.Inference.Abstractions;

namespace DiffusionGallery.Inference.Scheduling;

/// <summary>
/// One sampler run: the timestep/sigma schedule for N steps and the update rule.
/// Samples are flat float spans (any batch size; every operation is element-wise).
/// An instance keeps multistep history, so use a fresh one per job.
/// </summary>
public abstract class Sampler
{
    private readonly double[] _timesteps;
    private readonly double[] _sigmas;

    protected Sampler(NoiseSchedule schedule, double[] timesteps, double[] sigmas)
    {
        if (schedule.Config.PredictionType is not ("epsilon" or "v_prediction" or "sample"))
            throw new ArgumentException($"Unsupported prediction_type '{schedule.Config.PredictionType}'.", nameof(schedule));
        Schedule = schedule;
        IsEpsilon = schedule.Config.PredictionType == "epsilon";
        IsVPrediction = schedule.Config.PredictionType == "v_prediction";
        _timesteps = timesteps;
        _sigmas = sigmas;
    }

    public abstract SamplerKind Kind { get; }
    public NoiseSchedule Schedule { get; }
    public SchedulerConfig Config => Schedule.Config;

    /// <summary>The timestep fed to the UNet at each step (fractional for Euler-family samplers).</summary>
    public IReadOnlyList<double> Timesteps => _timesteps;

    /// <summary>For sigma-space samplers: N+1 sigmas ending in 0; empty otherwise.</summary>
    public IReadOnlyList<double> Sigmas => _sigmas;

    public int StepCount => _timesteps.Length;

    /// <summary>Standard deviation of the starting noise for txt2img.</summary>
    public virtual double InitNoiseSigma => 1.0;

    /// <summary>Factor applied to the sample before it enters the UNet at this step.</summary>
    public virtual float InputScale(int step) => 1f;

    /// <summary>Whether <see cref="Step"/> consumes fresh Gaussian noise at this step.</summary>
    public abstract bool NeedsNoise(int step);

    /// <summary>The noise level at this step, for progress reports (σ-equivalent for ᾱ samplers).</summary>
    public virtual double SigmaAt(int step) =>
        _sigmas.Length > 0 ? _sigmas[step] : Math.Sqrt((1 - Schedule.AlphaCumprodAt((int)_timesteps[step])) / Schedule.AlphaCumprodAt((int)_timesteps[step]));

    /// <summary>
    /// Advances <paramref name="sample"/> in place from step <paramref name="step"/> to the next one.
    /// <paramref name="noise"/> holds fresh standard noise when <see cref="NeedsNoise"/> is true (else empty);
    /// <paramref name="denoised"/> receives the current prediction of the clean latent (for previews).
    /// </summary>
    public abstract void Step(int step, ReadOnlySpan<float> modelOutput, Span<float> sample, ReadOnlySpan<float> noise, Span<float> denoised);

    /// <summary>Whether <see cref="TakeLinearStep"/> gives every step (see there).</summary>
    public virtual bool StepsLinearly => false;

    /// <summary>
    /// The next step (<paramref name="step"/>) as a <see cref="LinearStep"/>, when this sampler's update is linear in
    /// the latents at that step (no fresh noise, no clipping): the caller applies it instead of calling <see cref="Step"/>,
    /// and the sampler counts the step as taken. Returns false (and takes nothing) when it is not; then, or to go back to
    /// <see cref="Step"/> later, the caller hands the sampler the denoised prediction of the last step taken
    /// (<see cref="AdoptHistory"/>) where it keeps one.
    /// </summary>
    public virtual bool TakeLinearStep(int step, out LinearStep coefficients)
    {
        coefficients = default;
        return false;
    }

    /// <summary>After linear steps taken elsewhere: the last step's denoised prediction, for a multistep sampler's next <see cref="Step"/>.</summary>
    public virtual void AdoptHistory(ReadOnlySpan<float> previousDenoised)
    {
    }

    /// <summary>(c_skip, c_out) of the σ-parameterised x̂₀ (sample = x₀ + σ·ε), as <see cref="PredictOriginalSigma"/> computes it.</summary>
    protected (double CSkip, double COut) OriginalSigmaCoefficients(double sigma) =>
        IsEpsilon ? (1, -sigma)
        : IsVPrediction ? (1 / (sigma * sigma + 1), -sigma / Math.Sqrt(sigma * sigma + 1))
        : (0, 1);

    /// <summary>Noises a clean latent to the noise level of <paramref name="step"/> (img2img start).</summary>
    public virtual void AddNoise(int step, ReadOnlySpan<float> clean, ReadOnlySpan<float> noise, Span<float> destination) =>
        ForwardDiffusion.AddNoise(clean, noise, Schedule.AlphaCumprodAt((int)Math.Round(_timesteps[step])), destination);

    protected bool IsEpsilon { get; }
    protected bool IsVPrediction { get; }

    /// <summary>(x̂₀, ε̂) of one element for ᾱ-parameterised samplers; x̂₀ clipped when the config says so.</summary>
    protected (double X0, double Epsilon) PredictDiscrete(double sqrtAlpha, double sqrtBeta, double x, double m)
    {
        double x0, eps;
        if (IsEpsilon)
        {
            x0 = (x - sqrtBeta * m) / sqrtAlpha;
            eps = m;
        }
        else if (IsVPrediction)
        {
            x0 = sqrtAlpha * x - sqrtBeta * m;
            eps = sqrtAlpha * m + sqrtBeta * x;
        }
        else
        {
            x0 = m;
            eps = (x - sqrtAlpha * m) / sqrtBeta;
        }

        if (Config.ClipSample)
            x0 = Math.Clamp(x0, -Config.ClipSampleRange, Config.ClipSampleRange);
        return (x0, eps);
    }

    /// <summary>x̂₀ from the model output for σ-parameterised samplers (sample = x₀ + σ·ε).</summary>
    protected void PredictOriginalSigma(double sigma, ReadOnlySpan<float> modelOutput, ReadOnlySpan<float> sample, Span<float> x0)
    {
        var vScaleOut = -sigma / Math.Sqrt(sigma * sigma + 1);
        var vScaleIn = 1 / (sigma * sigma + 1);
        if (IsEpsilon)
        {
            for (var i = 0; i < sample.Length; i++)
                x0[i] = (float)(sample[i] - sigma * modelOutput[i]);
        }
        else if (IsVPrediction)
        {
            for (var i = 0; i < sample.Length; i++)
                x0[i] = (float)(modelOutput[i] * vScaleOut + sample[i] * vScaleIn);
        }
        else
        {
            modelOutput.CopyTo(x0);
        }
    }

    protected static double[] Reverse(double[] values)
    {
        Array.Reverse(values);
        return values;
    }
}
