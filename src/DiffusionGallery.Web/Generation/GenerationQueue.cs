using DiffusionGallery.Web.Quotas;

namespace DiffusionGallery.Web.Generation;

/// <summary>What <see cref="GenerationQueue.TryCancel"/> did.</summary>
public enum QueueCancelResult { NotFound, RemovedFromQueue, RunningSignalled }

/// <summary>A waiting job to (re)queue: its size in cost units (see <see cref="JobCostEstimator"/>) and its owner's weight.</summary>
public sealed record QueuedJob(Guid JobId, string OwnerId, double Units = 1, double Weight = 1);

/// <summary>
/// The singleton job order. Jobs are rows in the database (stored by <see cref="QuotaService"/>); this class keeps the
/// in-memory order and hands jobs out by weighted fair queueing on GPU-seconds (<see cref="FairShareQueue"/>): a user
/// with 50 waiting jobs and one with 1 alternate, recent heavy use lowers priority, admin weights scale the share.
/// Each job's estimated cost gives queue positions an ETA. Limits and quotas are not its business.
/// </summary>
public sealed class GenerationQueue(JobNotifier notifier, JobCostEstimator costs, TimeProvider time)
{
    private readonly Lock _gate = new();
    private readonly FairShareQueue _order = new(time, FairShareQueue.DefaultHalfLife);
    private readonly Dictionary<Guid, double> _units = [];
    private readonly SemaphoreSlim _available = new(0);
    private RunningJob? _running;

    public sealed record RunningJob(Guid JobId, string OwnerId, CancellationTokenSource Cancellation)
    {
        public DateTimeOffset DequeuedAt { get; init; }
        public double Units { get; init; } = 1;
        public double EstimatedSeconds { get; init; }
    }

    public int QueuedCount { get { lock (_gate) return _order.Count; } }

    /// <summary>Adds a stored, Queued job to the fair-share order.</summary>
    public void Enqueue(Guid jobId, string ownerId, double units = 1, double weight = 1) => EnqueueRange([new QueuedJob(jobId, ownerId, units, weight)]);

    /// <summary>Adds many stored jobs at once (start-up), in the order given.</summary>
    public void EnqueueRange(IEnumerable<QueuedJob> jobs)
    {
        var count = 0;
        lock (_gate)
        {
            foreach (var job in jobs)
            {
                ArgumentException.ThrowIfNullOrEmpty(job.OwnerId);
                _units[job.JobId] = job.Units;
                _order.Enqueue(job.JobId, job.OwnerId, job.Units * costs.SecondsPerUnit, job.Weight);
                count++;
            }
        }
        if (count == 0) return;
        _available.Release(count);
        PublishPositions();
    }

    /// <summary>1-based position among waiting jobs in the order they will run; null when not queued.</summary>
    public int? GetPosition(Guid jobId)
    {
        lock (_gate) return _order.Positions().TryGetValue(jobId, out var p) ? p.Position : null;
    }

    /// <summary>Where a new job of this size would land now: its position and about how many seconds until it starts.</summary>
    public (int Position, double WaitSeconds) Preview(string userId, double units, double weight)
    {
        lock (_gate)
        {
            var (position, wait) = _order.Preview(userId, units * costs.SecondsPerUnit, weight);
            return (position, wait + RunningRemainingSeconds());
        }
    }

    public RunningJob? Running { get { lock (_gate) return _running; } }

    /// <summary>For the worker: waits for the next job in fair-share order and marks it as running in memory.</summary>
    public async Task<RunningJob> DequeueAsync(CancellationToken cancellationToken)
    {
        while (true)
        {
            await _available.WaitAsync(cancellationToken);
            RunningJob? next = null;
            lock (_gate)
            {
                if (_order.Dequeue() is { } item)
                {
                    _units.Remove(item.JobId, out var units);
                    // Charged its estimate as it starts (so the order stays fair while it runs), settled in Complete.
                    _order.Charge(item.UserId, item.EstimatedSeconds);
                    next = _running = new RunningJob(item.JobId, item.UserId, new CancellationTokenSource())
                    {
                        DequeuedAt = time.GetUtcNow(),
                        Units = units > 0 ? units : 1,
                        EstimatedSeconds = item.EstimatedSeconds,
                    };
                }
            }
            if (next is not null)
            {
                PublishPositions();
                return next;
            }
        }
    }

    /// <summary>
    /// For the worker: the running job has ended. Its owner is charged the GPU time it held (for fair share); when it
    /// succeeded, its real cost also teaches the estimator.
    /// </summary>
    public void Complete(RunningJob job, bool succeeded = false)
    {
        var held = (time.GetUtcNow() - job.DequeuedAt).TotalSeconds;
        lock (_gate)
        {
            if (_running == job) _running = null;
            _order.Charge(job.OwnerId, held - job.EstimatedSeconds);
        }
        if (succeeded) costs.Observe(job.Units, held);
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
            if (!_order.Order().Any(i => i.JobId == jobId && i.UserId == userId)) return QueueCancelResult.NotFound;
            _order.Remove(jobId);
            _units.Remove(jobId);
        }
        PublishPositions();
        return QueueCancelResult.RemovedFromQueue;
    }

    private double RunningRemainingSeconds()
    {
        if (_running is not { } running) return 0;
        var elapsed = (time.GetUtcNow() - running.DequeuedAt).TotalSeconds;
        return Math.Max(0, running.EstimatedSeconds - elapsed);
    }

    private void PublishPositions()
    {
        List<(Guid JobId, int Position, double Wait)> positions;
        lock (_gate)
        {
            var offset = RunningRemainingSeconds();
            positions = _order.Positions().Select(p => (p.Key, p.Value.Position, p.Value.WaitSeconds + offset)).ToList();
        }
        foreach (var (jobId, position, wait) in positions)
            notifier.Publish(new JobUpdate { JobId = jobId, State = Data.Entities.JobState.Queued, QueuePosition = position, EtaSeconds = Math.Round(wait, 1) });
    }
}
