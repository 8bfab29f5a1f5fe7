using System.Collections.Concurrent;
using DiffusionGallery.Web.Data.Entities;
using DiffusionGallery.Web.Generation;

namespace DiffusionGallery.Web.A1111;

/// <summary>
/// One synchronous txt2img/img2img call: its jobs one after another (A1111's <c>job_no</c> of <c>job_count</c>),
/// the latest update of the job running now, and the caller's interrupt/skip requests.
/// </summary>
public sealed class A1111Run(string userId, int jobCount, DateTimeOffset startedAt)
{
    private readonly Lock _gate = new();
    private JobUpdate? _latest;
    private byte[]? _preview;

    public string UserId { get; } = userId;
    public int JobCount { get; } = jobCount;
    public DateTimeOffset StartedAt { get; } = startedAt;
    public int JobNo { get; private set; }
    public Guid? CurrentJobId { get; private set; }
    public volatile bool Interrupted;
    public volatile bool Skipped;

    public (JobUpdate? Latest, byte[]? Preview) Snapshot()
    {
        lock (_gate) return (_latest, _preview);
    }

    public void Follow(Guid jobId, int jobNo)
    {
        lock (_gate)
        {
            CurrentJobId = jobId;
            JobNo = jobNo;
            _latest = null;
            _preview = null;
        }
        Skipped = false;
    }

    public void Observe(JobUpdate update)
    {
        lock (_gate)
        {
            if (update.JobId != CurrentJobId) return;
            _latest = update;
            if (update.PreviewPng is { Length: > 0 } png) _preview = png;
        }
    }
}

/// <summary>The A1111 calls in flight, per user, for <c>/progress</c>, <c>/interrupt</c> and <c>/skip</c>.</summary>
public sealed class A1111JobTracker(JobNotifier notifier, JobQueries jobs, TimeProvider time)
{
    private readonly ConcurrentDictionary<A1111Run, byte> _runs = new();

    public A1111Run Start(string userId, int jobCount)
    {
        var run = new A1111Run(userId, jobCount, time.GetUtcNow());
        _runs.TryAdd(run, 0);
        return run;
    }

    public void End(A1111Run run) => _runs.TryRemove(run, out _);

    /// <summary>The caller's call whose job is running, else their oldest one; never another user's.</summary>
    public A1111Run? Current(string userId) => _runs.Keys
        .Where(r => r.UserId == userId)
        .OrderByDescending(r => r.Snapshot().Latest?.State == JobState.Running)
        .ThenBy(r => r.StartedAt)
        .FirstOrDefault();

    /// <summary>
    /// For /progress when the caller has no A1111 call in flight but a job of theirs (from the app or the REST API) is
    /// running: follows that job until it ends, so the next polls see its steps and previews.
    /// </summary>
    public async Task<A1111Run?> FollowRunningJobAsync(string userId, Guid jobId, CancellationToken cancellationToken)
    {
        if (_runs.Keys.FirstOrDefault(r => r.UserId == userId && r.CurrentJobId == jobId) is { } existing) return existing;
        var run = new A1111Run(userId, 1, time.GetUtcNow());
        run.Follow(jobId, 0);
        if (!_runs.TryAdd(run, 0)) return null;
        IDisposable? subscription = null;
        subscription = notifier.Subscribe(jobId, update =>
        {
            run.Observe(update);
            if (update.IsFinished)
            {
                End(run);
                subscription?.Dispose();
            }
            return Task.CompletedTask;
        });
        var stored = await jobs.GetAsync(userId, jobId, cancellationToken);
        if (stored is null || stored.IsFinished)
        {
            End(run);
            subscription.Dispose();
            return null;
        }
        if (run.Snapshot().Latest is null) run.Observe(stored);
        return run;
    }

    /// <summary>Follows one job until it ends; null when <paramref name="timeout"/> passes first (the job goes on).</summary>
    public async Task<JobUpdate?> WaitAsync(A1111Run run, Guid jobId, int jobNo, TimeSpan timeout, CancellationToken cancellationToken)
    {
        run.Follow(jobId, jobNo);
        var finished = new TaskCompletionSource<JobUpdate>(TaskCreationOptions.RunContinuationsAsynchronously);
        // Subscribe first, then read the stored state: an end published before the subscription is in the database.
        using var subscription = notifier.Subscribe(jobId, update =>
        {
            run.Observe(update);
            if (update.IsFinished) finished.TrySetResult(update);
            return Task.CompletedTask;
        });
        var stored = await jobs.GetAsync(run.UserId, jobId, cancellationToken);
        if (stored is not null)
        {
            if (stored.IsFinished) finished.TrySetResult(stored);
            else if (run.Snapshot().Latest is null) run.Observe(stored);
        }
        try
        {
            return await finished.Task.WaitAsync(timeout, time, cancellationToken);
        }
        catch (TimeoutException)
        {
            return null;
        }
    }
}
