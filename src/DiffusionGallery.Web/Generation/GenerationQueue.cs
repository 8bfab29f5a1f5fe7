namespace DiffusionGallery.Web.Generation;

/// <summary>What <see cref="GenerationQueue.TryCancel"/> did.</summary>
public enum QueueCancelResult { NotFound, RemovedFromQueue, RunningSignalled }

/// <summary>
/// The singleton job order. Jobs are rows in the database (stored by <see cref="Quotas.QuotaService"/>); this class keeps
/// the in-memory order and hands jobs out: one FIFO per user, users served round-robin (A1 A2 B1 C1 runs as A1 B1 C1 A2),
/// so one user's jobs never block another's beyond the job currently running. Limits and quotas are not its business.
/// </summary>
public sealed class GenerationQueue(JobNotifier notifier)
{
    private readonly Lock _gate = new();
    private readonly LinkedList<string> _userOrder = new();
    private readonly Dictionary<string, Queue<Guid>> _perUser = new(StringComparer.Ordinal);
    private readonly SemaphoreSlim _available = new(0);
    private RunningJob? _running;

    public sealed record RunningJob(Guid JobId, string OwnerId, CancellationTokenSource Cancellation);

    public int QueuedCount { get { lock (_gate) return _perUser.Values.Sum(q => q.Count); } }

    /// <summary>Appends a stored, Queued job to its owner's FIFO.</summary>
    public void Enqueue(Guid jobId, string ownerId)
    {
        ArgumentException.ThrowIfNullOrEmpty(ownerId);
        lock (_gate) AddToMemory(jobId, ownerId);
        _available.Release();
        PublishPositions();
    }

    /// <summary>Appends many stored jobs at once (start-up), in the order given.</summary>
    public void EnqueueRange(IEnumerable<(Guid JobId, string OwnerId)> jobs)
    {
        var count = 0;
        lock (_gate)
        {
            foreach (var (jobId, ownerId) in jobs)
            {
                AddToMemory(jobId, ownerId);
                count++;
            }
        }
        if (count == 0) return;
        _available.Release(count);
        PublishPositions();
    }

    private void AddToMemory(Guid jobId, string userId)
    {
        if (!_perUser.TryGetValue(userId, out var q))
        {
            q = new Queue<Guid>();
            _perUser[userId] = q;
            _userOrder.AddLast(userId);
        }
        q.Enqueue(jobId);
    }

    /// <summary>1-based position among waiting jobs in the order they will run; null when not queued.</summary>
    public int? GetPosition(Guid jobId)
    {
        lock (_gate)
        {
            var index = 0;
            foreach (var id in SimulatedOrder())
            {
                index++;
                if (id == jobId) return index;
            }
            return null;
        }
    }

    private IEnumerable<Guid> SimulatedOrder()
    {
        var queues = _userOrder.Select(u => new Queue<Guid>(_perUser[u])).ToList();
        while (queues.Count > 0)
        {
            for (var i = 0; i < queues.Count; i++)
            {
                yield return queues[i].Dequeue();
            }
            queues.RemoveAll(q => q.Count == 0);
        }
    }

    public RunningJob? Running { get { lock (_gate) return _running; } }

    /// <summary>For the worker: waits for the next job in round-robin order and marks it as running in memory.</summary>
    public async Task<RunningJob> DequeueAsync(CancellationToken cancellationToken)
    {
        while (true)
        {
            await _available.WaitAsync(cancellationToken);
            RunningJob? next = null;
            lock (_gate)
            {
                var first = _userOrder.First;
                if (first is not null)
                {
                    var userId = first.Value;
                    var q = _perUser[userId];
                    var jobId = q.Dequeue();
                    _userOrder.RemoveFirst();
                    if (q.Count > 0) _userOrder.AddLast(userId); else _perUser.Remove(userId);
                    next = _running = new RunningJob(jobId, userId, new CancellationTokenSource());
                }
            }
            if (next is not null)
            {
                PublishPositions();
                return next;
            }
        }
    }

    /// <summary>For the worker: the running job has ended.</summary>
    public void Complete(RunningJob job)
    {
        lock (_gate)
        {
            if (_running == job) _running = null;
        }
        job.Cancellation.Dispose();
    }

    /// <summary>
    /// Takes a waiting job of this user out of the order, or signals the running one to stop. The caller records the
    /// outcome (<see cref="SubmissionService.CancelAsync"/>).
    /// </summary>
    public QueueCancelResult TryCancel(Guid jobId, string userId)
    {
        lock (_gate)
        {
            if (_running is { } running && running.JobId == jobId)
            {
                if (running.OwnerId != userId) return QueueCancelResult.NotFound;
                running.Cancellation.Cancel();
                return QueueCancelResult.RunningSignalled;
            }
            if (!_perUser.TryGetValue(userId, out var q) || !q.Contains(jobId)) return QueueCancelResult.NotFound;
            var rest = q.Where(id => id != jobId).ToList();
            q.Clear();
            foreach (var id in rest) q.Enqueue(id);
            if (q.Count == 0)
            {
                _perUser.Remove(userId);
                _userOrder.Remove(userId);
            }
        }
        PublishPositions();
        return QueueCancelResult.RemovedFromQueue;
    }

    private void PublishPositions()
    {
        List<Guid> order;
        lock (_gate) order = SimulatedOrder().ToList();
        for (var i = 0; i < order.Count; i++)
            notifier.Publish(new JobUpdate { JobId = order[i], State = Data.Entities.JobState.Queued, QueuePosition = i + 1 });
    }
}
