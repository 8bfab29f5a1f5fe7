using System.Globalization;
using System.Text;

namespace DiffusionGallery.LoadTest;

public sealed record LatencySummary(int Count, double MinMs, double P50Ms, double P95Ms, double MaxMs, double MeanMs)
{
    /// <summary>Nearest-rank percentiles of the given latencies (all zero when there are none).</summary>
    public static LatencySummary Of(IReadOnlyCollection<double> latencies)
    {
        if (latencies.Count == 0) return new(0, 0, 0, 0, 0, 0);
        var sorted = latencies.Order().ToArray();
        double Rank(double q) => sorted[Math.Clamp((int)Math.Ceiling(q * sorted.Length) - 1, 0, sorted.Length - 1)];
        return new(sorted.Length, sorted[0], Rank(0.50), Rank(0.95), sorted[^1], sorted.Average());
    }
}

/// <summary>What a run measured; printed by <see cref="ToText"/> and written as JSON by the tool.</summary>
public sealed record LoadTestReport
{
    public required string Url { get; init; }
    public required string Via { get; init; }
    public required int Users { get; init; }
    public required int JobsPerUser { get; init; }
    /// <summary>Jobs each user kept in flight (<see cref="LoadTestOptions.Depth"/>).</summary>
    public int Depth { get; init; } = 1;
    /// <summary>Milliseconds between users' starts (<see cref="LoadTestOptions.Stagger"/>).</summary>
    public double StaggerMs { get; init; }
    public required int Steps { get; init; }
    public int? Width { get; init; }
    public int? Height { get; init; }
    public required DateTimeOffset StartedAt { get; init; }
    public required double WallSeconds { get; init; }
    public required int JobsSucceeded { get; init; }
    public required int Images { get; init; }
    public required double ImagesPerSecond { get; init; }
    public required LatencySummary Latency { get; init; }
    /// <summary>The server's own time per job (startedAt → finishedAt: its run went to the engine → its outcome was stored); Count 0 when not reported.</summary>
    public LatencySummary WorkerTime { get; init; } = LatencySummary.Of([]);
    /// <summary>The submission's round trip per job (<see cref="JobOutcome.SubmitMs"/>).</summary>
    public LatencySummary SubmitTime { get; init; } = LatencySummary.Of([]);
    /// <summary>The server's createdAt → startedAt per job (<see cref="JobOutcome.QueueMs"/>); Count 0 when not reported.</summary>
    public LatencySummary QueueTime { get; init; } = LatencySummary.Of([]);
    /// <summary>The server's finishedAt → the client learnt of it, per job (<see cref="JobOutcome.AnswerMs"/>).</summary>
    public LatencySummary AnswerTime { get; init; } = LatencySummary.Of([]);
    /// <summary>Failures by kind (e.g. "job-failed", "submit-http-500", "timeout"); empty when every job succeeded.</summary>
    public required IReadOnlyDictionary<string, int> Errors { get; init; }
    public IReadOnlyList<string> ErrorSamples { get; init; } = [];
    /// <summary>batchSize of the job resources → how many jobs reported it; "absent" counts jobs whose resource had no such field.</summary>
    public required IReadOnlyDictionary<string, int> BatchSizes { get; init; }
    /// <summary>429 answers to submissions that were waited out and retried (not errors).</summary>
    public int SubmitRetries { get; init; }
    public int UsersRegistered { get; init; }
    public double? GpuBusyMeanPercent { get; init; }
    public int GpuSamples { get; init; }
    /// <summary>Mean busy % per GPU index (nvidia-smi's), where sampled.</summary>
    public IReadOnlyDictionary<string, double>? GpuBusyByDevice { get; init; }
    /// <summary>REST with <c>--poll</c> only: how often a running job was polled (its latency includes up to one interval).</summary>
    public double? PollIntervalMs { get; init; }
    /// <summary>REST's long poll (<c>?wait=</c> seconds); null when polling or over the hub.</summary>
    public int? RestWaitSeconds { get; init; }
    public required IReadOnlyList<JobOutcome> Jobs { get; init; }

    public int ErrorCount => Errors.Values.Sum();

    public string ToText()
    {
        var c = CultureInfo.InvariantCulture;
        var text = new StringBuilder();
        text.AppendLine(c, $"{Users} users x {JobsPerUser} jobs{(Depth > 1 ? $" ({Depth} in flight each)" : "")} via {Via}, {Steps} steps{(Width is null ? "" : $", {Width}x{Height}")} at {Url}");
        text.AppendLine(c, $"  images/s      {ImagesPerSecond:0.00}  ({Images} images in {WallSeconds:0.00} s; {JobsSucceeded} jobs succeeded)");
        text.AppendLine(c, $"  latency (ms)  p50 {Latency.P50Ms:0}  p95 {Latency.P95Ms:0}  max {Latency.MaxMs:0}  (mean {Latency.MeanMs:0}, min {Latency.MinMs:0}, n={Latency.Count})");
        if (WorkerTime.Count > 0)
            text.AppendLine(c, $"  worker (ms)   p50 {WorkerTime.P50Ms:0}  p95 {WorkerTime.P95Ms:0}  max {WorkerTime.MaxMs:0}  (mean {WorkerTime.MeanMs:0}, n={WorkerTime.Count}; server's startedAt → finishedAt)");
        if (QueueTime.Count > 0)
            text.AppendLine(c, $"  phases (ms)   mean / p50: submit {SubmitTime.MeanMs:0.0} / {SubmitTime.P50Ms:0.0}, queue {QueueTime.MeanMs:0.0} / {QueueTime.P50Ms:0.0}, worker {WorkerTime.MeanMs:0.0} / {WorkerTime.P50Ms:0.0}, answer {AnswerTime.MeanMs:0.0} / {AnswerTime.P50Ms:0.0} (submit round trip; createdAt → startedAt; startedAt → finishedAt; finishedAt → seen here)");
        text.AppendLine(c, $"  errors        {(Errors.Count == 0 ? "0" : string.Join(", ", Errors.Select(e => $"{e.Key}: {e.Value}")))}");
        foreach (var sample in ErrorSamples) text.AppendLine(c, $"    {sample}");
        text.AppendLine(c, $"  batchSize     {(BatchSizes.Count == 0 ? "-" : string.Join(", ", BatchSizes.Select(b => $"{b.Key}: {b.Value}")))}");
        if (SubmitRetries > 0) text.AppendLine(c, $"  429 retries   {SubmitRetries}");
        if (GpuSamples > 0)
        {
            var perGpu = GpuBusyByDevice is { Count: > 1 } byDevice
                ? string.Create(c, $" (per GPU: {string.Join(", ", byDevice.Select(d => string.Create(c, $"{d.Key}: {d.Value:0.0} %")))})")
                : "";
            text.AppendLine(c, $"  GPU busy      {GpuBusyMeanPercent:0.0} % mean over {GpuSamples} samples{perGpu}");
        }
        if (PollIntervalMs is { } poll) text.AppendLine(c, $"  (REST: finished jobs seen by polling every {poll:0} ms)");
        if (RestWaitSeconds is { } wait) text.AppendLine(c, $"  (REST: finished jobs seen by long poll, ?wait={wait})");
        return text.ToString();
    }
}
