namespace DiffusionGallery.Web.Quotas;

/// <summary>
/// Estimates a job's GPU-seconds before it runs (for the GPU-seconds reservation, queue ordering and ETAs): seconds
/// per "unit" (one step of one 512×512-pixel image) learned as a moving average of what finished jobs really took.
/// Thread-safe.
/// </summary>
public sealed class JobCostEstimator
{
    public const double PixelsPerUnit = 512 * 512;
    private const double Smoothing = 0.2;

    private readonly Lock _gate = new();
    private double _secondsPerUnit;

    public JobCostEstimator(double initialSecondsPerUnit = 0.05) => _secondsPerUnit = initialSecondsPerUnit;

    public double SecondsPerUnit { get { lock (_gate) return _secondsPerUnit; } }

    public static double Units(int steps, int batch, int width, int height) =>
        Math.Max(1, steps) * Math.Max(1, batch) * Math.Max(1.0, (double)width * height) / PixelsPerUnit;

    public double Estimate(int steps, int batch, int width, int height) => Units(steps, batch, width, height) * SecondsPerUnit;

    /// <summary>Learns from a finished job (its real GPU-seconds).</summary>
    public void Observe(int steps, int batch, int width, int height, double gpuSeconds) => Observe(Units(steps, batch, width, height), gpuSeconds);

    /// <summary>Learns from a finished job of <paramref name="units"/> cost units.</summary>
    public void Observe(double units, double gpuSeconds)
    {
        if (!(gpuSeconds > 0) || double.IsInfinity(gpuSeconds) || !(units > 0)) return;
        var sample = gpuSeconds / units;
        lock (_gate) _secondsPerUnit += Smoothing * (sample - _secondsPerUnit);
    }
}
