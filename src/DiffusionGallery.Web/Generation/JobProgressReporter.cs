using DiffusionGallery.Inference.Abstractions;

namespace DiffusionGallery.Web.Generation;

/// <summary>
/// Turns one job's engine progress into <see cref="JobUpdate"/>s. Previews are decoded (by the engine) and encoded (here,
/// once for every subscriber) only while someone watches the job, at most one per <see cref="MinPreviewInterval"/>
/// plus the last step; every step still reports its progress.
/// </summary>
/// <param name="lastStep">Called when the job reports its last step (the worker then takes its next run).</param>
public sealed class JobProgressReporter(Guid jobId, JobNotifier notifier, TimeProvider time, Action? lastStep = null) : IProgress<GenerationProgress>, IPreviewDemand
{
    public static readonly TimeSpan MinPreviewInterval = TimeSpan.FromMilliseconds(100);

    private readonly Lock _gate = new();
    private long? _lastPreviewAt;
    private int _grantedStep = -1;

    /// <summary>Previews encoded so far (for tests and logs).</summary>
    public int PreviewsEncoded { get; private set; }

    public bool WantsPreview(int step, int totalSteps)
    {
        lock (_gate)
        {
            if (!Allowed(step, totalSteps)) return false;
            _grantedStep = step;
            _lastPreviewAt = time.GetTimestamp();
            return true;
        }
    }

    public void Report(GenerationProgress value)
    {
        byte[]? preview = null;
        if (value.Previews is { Count: > 0 } previews)
        {
            bool encode;
            lock (_gate)
            {
                // An engine that asked WantsPreview decoded this frame because it was granted; one that did not ask is rate-limited here.
                encode = value.Step == _grantedStep || Allowed(value.Step, value.TotalSteps);
                if (encode && value.Step != _grantedStep) _lastPreviewAt = time.GetTimestamp();
            }
            if (encode)
            {
                preview = PreviewEncoder.Encode(previews[0]);
                PreviewsEncoded++;
            }
        }
        var seconds = value.Elapsed.TotalSeconds;
        notifier.Publish(new JobUpdate
        {
            JobId = jobId,
            State = Data.Entities.JobState.Running,
            Step = Math.Max(1, value.Step),
            TotalSteps = value.TotalSteps,
            IterationsPerSecond = seconds > 0 ? value.Step / seconds : null,
            EtaSeconds = value.EstimatedRemaining?.TotalSeconds,
            PreviewPng = preview,
        });
        if (value.Step >= value.TotalSteps) lastStep?.Invoke();
    }

    private bool Allowed(int step, int totalSteps)
    {
        if (notifier.SubscriberCount(jobId) == 0) return false;
        if (step >= totalSteps || _lastPreviewAt is not { } last) return true;
        return time.GetElapsedTime(last) >= MinPreviewInterval;
    }
}
