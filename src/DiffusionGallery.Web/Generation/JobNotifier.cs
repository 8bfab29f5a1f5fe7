using System.Collections.Concurrent;
using System.Threading.Channels;

namespace DiffusionGallery.Web.Generation;

/// <summary>
/// Singleton pub/sub for job updates. Each subscription delivers on its own pump: state changes in order,
/// progress coalesced to the latest frame, so a slow circuit or hub client never builds a backlog.
/// </summary>
public sealed class JobNotifier(ILogger<JobNotifier> logger)
{
    private ILogger Logger => logger;

    /// <summary>
    /// Guards adding to and removing from the per-job sets below, and dropping a set that became empty: without it, one
    /// caller could drop a set that another has just fetched and not yet added itself to (that one then waits in a set
    /// nobody publishes to). Publishing takes it only to detach a finished job's set; delivery happens outside it.
    /// </summary>
    private readonly Lock _gate = new();

    private readonly ConcurrentDictionary<Guid, ConcurrentDictionary<Subscription, byte>> _subscriptions = new();

    public int SubscriberCount(Guid jobId) => _subscriptions.TryGetValue(jobId, out var set) ? set.Count : 0;

    public IDisposable Subscribe(Guid jobId, Func<JobUpdate, Task> handler)
    {
        ArgumentNullException.ThrowIfNull(handler);
        var subscription = new Subscription(this, jobId, handler);
        lock (_gate) _subscriptions.GetOrAdd(jobId, _ => new()).TryAdd(subscription, 0);
        return subscription;
    }

    private readonly ConcurrentDictionary<Guid, ConcurrentDictionary<TaskCompletionSource<JobUpdate>, byte>> _finishWaiters = new();

    /// <summary>
    /// Completes with the job's finishing update (Succeeded, Failed or Cancelled) when it is published, or is cancelled by
    /// <paramref name="cancellationToken"/>. Register before reading the stored state: a job that finishes after the read
    /// is then never missed. Unlike <see cref="Subscribe"/> it is no watcher (no previews are made for it) and has no pump.
    /// </summary>
    public async Task<JobUpdate> WaitForFinishAsync(Guid jobId, CancellationToken cancellationToken)
    {
        var waiter = new TaskCompletionSource<JobUpdate>(TaskCreationOptions.RunContinuationsAsynchronously);
        ConcurrentDictionary<TaskCompletionSource<JobUpdate>, byte> set;
        lock (_gate)
        {
            set = _finishWaiters.GetOrAdd(jobId, _ => new());
            set.TryAdd(waiter, 0);
        }
        try
        {
            return await waiter.Task.WaitAsync(cancellationToken);
        }
        finally
        {
            lock (_gate)
            {
                set.TryRemove(waiter, out _);
                if (set.IsEmpty) _finishWaiters.TryRemove(new KeyValuePair<Guid, ConcurrentDictionary<TaskCompletionSource<JobUpdate>, byte>>(jobId, set));
            }
        }
    }

    /// <summary>Jobs someone waits on through <see cref="WaitForFinishAsync"/> (for tests).</summary>
    public int FinishWaiterCount(Guid jobId) => _finishWaiters.TryGetValue(jobId, out var set) ? set.Count : 0;

    public void Publish(JobUpdate update)
    {
        if (update.IsFinished)
        {
            ConcurrentDictionary<TaskCompletionSource<JobUpdate>, byte>? waiters;
            ConcurrentDictionary<Subscription, byte>? finished;
            lock (_gate)
            {
                _finishWaiters.TryRemove(update.JobId, out waiters);
                _subscriptions.TryRemove(update.JobId, out finished);
            }
            foreach (var waiter in waiters?.Keys ?? []) waiter.TrySetResult(update);
            foreach (var subscription in finished?.Keys ?? []) subscription.Post(update);
            return;
        }
        if (!_subscriptions.TryGetValue(update.JobId, out var set)) return;
        foreach (var subscription in set.Keys) subscription.Post(update);
    }

    private void Remove(Subscription subscription)
    {
        lock (_gate)
        {
            if (!_subscriptions.TryGetValue(subscription.JobId, out var set)) return;
            set.TryRemove(subscription, out _);
            if (set.IsEmpty) _subscriptions.TryRemove(new KeyValuePair<Guid, ConcurrentDictionary<Subscription, byte>>(subscription.JobId, set));
        }
    }

    private sealed class Subscription : IDisposable
    {
        private readonly JobNotifier _owner;
        private readonly Func<JobUpdate, Task> _handler;
        private readonly ConcurrentQueue<JobUpdate> _states = new();
        private readonly Channel<bool> _signal = Channel.CreateBounded<bool>(new BoundedChannelOptions(1) { FullMode = BoundedChannelFullMode.DropWrite });
        private readonly CancellationTokenSource _stop = new();
        private readonly Lock _progressGate = new();
        private JobUpdate? _latestProgress;

        public Subscription(JobNotifier owner, Guid jobId, Func<JobUpdate, Task> handler)
        {
            _owner = owner;
            JobId = jobId;
            _handler = handler;
            _ = Task.Run(PumpAsync);
        }

        public Guid JobId { get; }

        public void Post(JobUpdate update)
        {
            if (update.State == Data.Entities.JobState.Running && update.Step > 0)
            {
                // Coalesce to the latest frame, keeping a not yet delivered preview (previews come at most every 100 ms).
                lock (_progressGate)
                {
                    if (update.PreviewPng is null && _latestProgress?.PreviewPng is { } pending) update = update with { PreviewPng = pending };
                    _latestProgress = update;
                }
            }
            else
                _states.Enqueue(update);
            _signal.Writer.TryWrite(true);
        }

        private async Task PumpAsync()
        {
            try
            {
                while (await _signal.Reader.WaitToReadAsync(_stop.Token))
                {
                    _signal.Reader.TryRead(out _);
                    while (!_stop.IsCancellationRequested)
                    {
                        // Order: queued non-final states, then the latest progress frame, then the final state.
                        if (_states.TryPeek(out var state) && !state.IsFinished)
                        {
                            _states.TryDequeue(out _);
                            await DeliverAsync(state);
                            continue;
                        }
                        JobUpdate? progress;
                        lock (_progressGate) (progress, _latestProgress) = (_latestProgress, null);
                        if (progress is not null)
                        {
                            await DeliverAsync(progress);
                            continue;
                        }
                        if (!_states.TryDequeue(out var final)) break;
                        await DeliverAsync(final);
                        if (final.IsFinished) { Dispose(); return; }
                    }
                }
            }
            catch (OperationCanceledException) when (_stop.IsCancellationRequested)
            {
                // disposed
            }
        }

        private async Task DeliverAsync(JobUpdate update)
        {
            if (_stop.IsCancellationRequested) return;
            try
            {
                await _handler(update);
            }
            catch (ObjectDisposedException)
            {
                Dispose(); // the circuit or connection went away
            }
            catch (Exception ex)
            {
                _owner.Logger.LogWarning(ex, "A job update handler failed for job {JobId}", JobId);
            }
        }

        public void Dispose()
        {
            if (_stop.IsCancellationRequested) return;
            _stop.Cancel();
            _owner.Remove(this);
        }
    }
}
