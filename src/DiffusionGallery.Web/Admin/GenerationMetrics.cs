using System.Diagnostics.Metrics;
using DiffusionGallery.Web.Generation;

namespace DiffusionGallery.Web.Admin;

/// <summary>
/// The operators' meters (OpenTelemetry, exported for Prometheus at <c>/metrics</c> when enabled): queue length,
/// wait time, job and step duration, images, GPU busy share, errors. Fed by <see cref="JobMetricsSampler"/>.
/// </summary>
public sealed class GenerationMetrics
{
    public const string MeterName = "DiffusionGallery.Generation";
    public const int HistoryPoints = 720; // one hour at the sampler's 5 s interval

    private readonly Histogram<double> _wait;
    private readonly Histogram<double> _jobDuration;
    private readonly Histogram<double> _stepDuration;
    private readonly Counter<long> _images;
    private readonly Counter<long> _jobs;
    private readonly Counter<long> _errors;
    private readonly Lock _gate = new();
    private readonly Queue<(DateTimeOffset At, int Length)> _queueHistory = new();
    private double _busyShare;

    public GenerationMetrics(IMeterFactory meters, GenerationQueue queue)
    {
        var meter = meters.Create(MeterName);
        meter.CreateObservableGauge("dg.queue.length", () => queue.QueuedCount, "{job}", "Jobs waiting in the queue.");
        meter.CreateObservableGauge("dg.gpu.busy_share", () => Volatile.Read(ref _busyShare), "1", "Share of the last minute the worker spent running jobs (0..1).");
        _wait = meter.CreateHistogram<double>("dg.job.wait", "s", "Time from submission to the start of a job.");
        _jobDuration = meter.CreateHistogram<double>("dg.job.duration", "s", "Time a job ran on the worker.");
        _stepDuration = meter.CreateHistogram<double>("dg.job.step.duration", "s", "Mean time of one sampling step of a job.");
        _images = meter.CreateCounter<long>("dg.images", "{image}", "Images created.");
        _jobs = meter.CreateCounter<long>("dg.jobs", "{job}", "Jobs finished, by outcome.");
        _errors = meter.CreateCounter<long>("dg.errors", "{job}", "Jobs that failed.");
    }

    public void JobFinished(string outcome, double? waitSeconds, double? runSeconds, int steps, int images)
    {
        _jobs.Add(1, new KeyValuePair<string, object?>("outcome", outcome));
        if (outcome == "failed") _errors.Add(1);
        if (waitSeconds is { } wait) _wait.Record(Math.Max(0, wait));
        if (runSeconds is { } run)
        {
            _jobDuration.Record(Math.Max(0, run));
            if (steps > 0) _stepDuration.Record(Math.Max(0, run) / steps);
        }
        if (images > 0) _images.Add(images);
    }

    public void Sample(DateTimeOffset at, int queueLength, double busyShare)
    {
        Volatile.Write(ref _busyShare, Math.Clamp(busyShare, 0, 1));
        lock (_gate)
        {
            _queueHistory.Enqueue((at, queueLength));
            while (_queueHistory.Count > HistoryPoints) _queueHistory.Dequeue();
        }
    }

    public double BusyShare => Volatile.Read(ref _busyShare);

    public IReadOnlyList<(DateTimeOffset At, int Length)> QueueHistory
    {
        get { lock (_gate) return _queueHistory.ToList(); }
    }
}
