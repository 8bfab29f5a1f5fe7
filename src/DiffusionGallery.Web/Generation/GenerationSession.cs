using DiffusionGallery.Web.Data.Entities;
using DiffusionGallery.Web.Errors;

namespace DiffusionGallery.Web.Generation;

/// <summary>
/// One per circuit: submits the signed-in user's jobs and tracks the latest state of each, raising
/// <see cref="Changed"/> (components re-render with InvokeAsync). Disposed with the circuit.
/// </summary>
public sealed class GenerationSession(
    SubmissionService submissions,
    GenerationQueue queue,
    JobNotifier notifier,
    JobQueries jobs,
    ILogger<GenerationSession> logger) : IDisposable
{
    private readonly Dictionary<Guid, IDisposable> _subscriptions = [];
    private readonly Lock _gate = new();
    private bool _disposed;

    /// <summary>The job shown on the generate page (the most recent one submitted).</summary>
    public JobUpdate? Current { get; private set; }

    /// <summary>Settings of <see cref="Current"/>, as stored (model resolved, prompt trimmed).</summary>
    public GenerationSettings? CurrentSettings { get; private set; }

    public event Func<Task>? Changed;

    /// <summary>Queues a job through <see cref="SubmissionService"/>; throws its <see cref="DomainException"/>s (map them with <see cref="DomainErrorMapping"/>).</summary>
    public Task<Guid> SubmitAsync(GenerationSettings settings, Guid? parentImageId = null, CancellationToken cancellationToken = default) =>
        SubmitAsync(new SubmitCommand(settings) { ParentImageId = parentImageId, Origin = JobOrigins.Web }, cancellationToken);

    /// <summary>Queues <paramref name="command"/> (e.g. with a reference image) and follows it as <see cref="Current"/>.</summary>
    public async Task<Guid> SubmitAsync(SubmitCommand command, CancellationToken cancellationToken = default)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        var (job, position) = await submissions.SubmitWithPositionAsync(command, cancellationToken);
        CurrentSettings = job.Settings;
        Current = new JobUpdate { JobId = job.Id, State = JobState.Queued, QueuePosition = position, TotalSteps = job.Settings.Steps };
        lock (_gate)
        {
            if (!_disposed) _subscriptions[job.Id] = notifier.Subscribe(job.Id, update => OnUpdateAsync(update));
        }
        // The job may have finished between enqueue and subscribe: then its final state is only in the database.
        if (queue.GetPosition(job.Id) is null && !queue.IsRunning(job.Id)
            && await jobs.GetAsync(job.OwnerId, job.Id, cancellationToken) is { IsFinished: true } finished)
        {
            logger.LogDebug("Job {JobId} finished before the session subscribed", job.Id);
            Current = finished;
            Unsubscribe(job.Id);
        }
        await RaiseChangedAsync();
        return job.Id;
    }

    /// <summary>False when the job had already finished.</summary>
    public async Task<bool> CancelAsync(Guid jobId, CancellationToken cancellationToken = default)
    {
        try
        {
            await submissions.CancelAsync(jobId, cancellationToken);
            return true;
        }
        catch (NotFoundException)
        {
            return false;
        }
    }

    private async Task OnUpdateAsync(JobUpdate update)
    {
        if (Current is null || update.JobId != Current.JobId)
        {
            if (update.IsFinished) Unsubscribe(update.JobId);
            return;
        }
        // Keep the last preview when an update carries none (e.g. the final Succeeded state).
        Current = update.PreviewPng is null && Current.PreviewPng is not null && update.State == JobState.Running
            ? update with { PreviewPng = Current.PreviewPng }
            : update;
        if (update.IsFinished) Unsubscribe(update.JobId);
        await RaiseChangedAsync();
    }

    private void Unsubscribe(Guid jobId)
    {
        lock (_gate)
        {
            if (_subscriptions.Remove(jobId, out var subscription)) subscription.Dispose();
        }
    }

    private async Task RaiseChangedAsync()
    {
        var handlers = Changed;
        if (handlers is null) return;
        foreach (var handler in handlers.GetInvocationList().Cast<Func<Task>>())
        {
            try
            {
                await handler();
            }
            catch (ObjectDisposedException)
            {
                // the component's renderer is gone
            }
        }
    }

    public void Dispose()
    {
        lock (_gate)
        {
            if (_disposed) return;
            _disposed = true;
            foreach (var subscription in _subscriptions.Values) subscription.Dispose();
            _subscriptions.Clear();
        }
    }
}
