using System.Globalization;
using DiffusionGallery.Inference.Abstractions;
using DiffusionGallery.Inference.Pipeline;

namespace DiffusionGallery.Web.Generation;

/// <summary>
/// Where a shared run's engine time went, for the worker's run log: the stages the run's jobs shared (the step loop's
/// wall time, text encoder, UNet, tensor copies: every job is charged the whole call, so the largest figure is the run's) and the sum of the
/// stages each job runs for itself (VAE decode, scheduler, noise, previews, PNG encoding).
/// </summary>
public static class RunStages
{
    private static readonly string[] Shared = [StageTimings.Loop, StageTimings.Join, StageTimings.TextEncoder, StageTimings.Unet, StageTimings.TensorIo,
        StageTimings.Advance, StageTimings.Leave];
    private static readonly string[] Own = [StageTimings.VaeEncode, StageTimings.VaeDecode, StageTimings.Scheduler, StageTimings.Noise,
        StageTimings.Preview, StageTimings.PngEncode];

    /// <summary>"unet 41.2, text_encoder 0.9, …" in milliseconds, stages that took no time left out; "no results" when no job succeeded.</summary>
    public static string Describe(IEnumerable<GenerationResult?> results)
    {
        var timings = results.OfType<GenerationResult>().Select(r => r.StageTimings).ToList();
        if (timings.Count == 0) return "no results";
        var parts = new List<string>();
        foreach (var stage in Shared.Concat(Own))
        {
            var values = timings.Select(t => t.TryGetValue(stage, out var v) ? v.TotalMilliseconds : 0).ToList();
            var ms = Shared.Contains(stage) ? values.Max() : values.Sum();
            if (ms > 0) parts.Add(string.Create(CultureInfo.InvariantCulture, $"{stage} {ms:F1}"));
        }
        return string.Join(", ", parts);
    }

    /// <summary>
    /// Where the jobs' time in the worker went, means per job in milliseconds: <c>ready_wait</c> from leaving the queue to
    /// the engine taking the job (claiming, loading, waiting ready for room), <c>in_engine</c> from then to the engine
    /// handing its outcome back (admission, the step loop, decoding, encoding), <c>to_saved</c> from then to
    /// <paramref name="savedAt"/> (waiting for the saver, files, the database). Jobs the engine has not handed back are left
    /// out; "" when none is left.
    /// </summary>
    public static string Phases(IEnumerable<GenerationQueue.RunningJob> jobs, DateTimeOffset savedAt)
    {
        var ended = jobs.Where(j => j.LeftEngineAt != default).ToList();
        if (ended.Count == 0) return "";
        double Mean(Func<GenerationQueue.RunningJob, TimeSpan> phase) => ended.Average(j => Math.Max(0, phase(j).TotalMilliseconds));
        return string.Create(CultureInfo.InvariantCulture,
            $"ready_wait {Mean(j => j.ChargedFrom - j.DequeuedAt):F1}, in_engine {Mean(j => j.LeftEngineAt - j.ChargedFrom):F1}, to_saved {Mean(j => savedAt - j.LeftEngineAt):F1}");
    }
}
