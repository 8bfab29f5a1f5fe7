using DiffusionGallery.Web.Quotas;

namespace DiffusionGallery.Web.Generation;

/// <summary>What <see cref="GenerationQueue.TryCancel"/> did.</summary>
public enum QueueCancelResult { NotFound, RemovedFromQueue, RunningSignalled }

/// <summary>
/// A waiting job to (re)queue: its size in cost units (see <see cref="JobCostEstimator"/>), its owner's weight and the
/// stored settings (null: it runs alone), from which <see cref="JobBatching"/> finds the runs it may share.
/// </summary>
public sealed record QueuedJob(Guid JobId, string OwnerId, double Units = 1, double Weight = 1, Data.Entities.GenerationSettings? Settings = null);

/// <summary>
/// The singleton job order. Jobs are rows in the database (stored by <see cref="QuotaService"/>); this class keeps the
/// in-memory order and hands jobs out by weighted fair queueing on GPU-seconds (<see cref="FairShareQueue"/>): a user
/// with 50 waiting jobs and one with 1 alternate, recent heavy use lowers priority, admin weights scale the share.
/// A run is the fair-share head job plus, in fair-share order, other waiting jobs of the same batch key (any user) up to
/// the engine's image budget; a job is never split. Each job's estimated cost gives queue positions an ETA. Limits and
/// quotas are not its business.
/// </summary>
public sealed class GenerationQueue(JobNotifier notifier, JobCostEstimator costs, TimeProvider time, JobBatching batching)
{
    private readonly Lock _gate = new();
    private readonly FairShareQueue _order = new(time, FairShareQueue.DefaultHalfLife);
    private readonly Dictionary<Guid, (double Units, BatchSlot Slot)> _waiting = [];
    private readonly SemaphoreSlim _available = new(0);
    private readonly Dictionary<Guid, RunningJob> _running = [];
    /// <summary>When each user's last job ended (pruned to <see cref="RecentlyDone"/>), for gathering runs.</summary>
    private readonly Dictionary<string, DateTimeOffset> _recentlyDone = new(StringComparer.Ordinal);
    /// <summary>Completed (and replaced) whenever jobs are enqueued: what a gathering run waits on.</summary>
    private TaskCompletionSource _arrival = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>How long after a user's job ended they count as likely to submit again at once.</summary>
    public static readonly TimeSpan RecentlyDone = TimeSpan.FromSeconds(1);

    /// <summary>One job of a run. <see cref="Share"/> is its part of the run's images, for charging the run's time.</summary>
    public sealed record RunningJob(Guid JobId, string OwnerId, CancellationTokenSource Cancellation)
    {
        private long _chargedFromTicks; // UTC ticks; 0 = from DequeuedAt

        public DateTimeOffset DequeuedAt { get; init; }

        /// <summary>
        /// Where the job's GPU time (quota, fair share, cost estimate) starts: when it was dequeued, or — a job made ready
        /// ahead of a full run (<see cref="GenerationWorker"/>'s joinable runs) — when the engine took it.
        /// </summary>
        public DateTimeOffset ChargedFrom
        {
            get => Interlocked.Read(ref _chargedFromTicks) is var ticks and not 0 ? new DateTimeOffset(ticks, TimeSpan.Zero) : DequeuedAt;
            set => Interlocked.Exchange(ref _chargedFromTicks, value.UtcTicks);
        }

        /// <summary>When the engine handed its outcome back (decoded and encoded); default while it has not (<see cref="RunStages.Phases"/>).</summary>
        public DateTimeOffset LeftEngineAt { get; set; }

        public double Units { get; init; } = 1;
        public double EstimatedSeconds { get; init; }
        public int Images { get; init; } = 1;
        public double Share { get; set; } = 1;
    }

    /// <summary>Jobs the worker runs together (the first is the fair-share head); <see cref="Images"/> is their sum.</summary>
    public sealed record RunningBatch(IReadOnlyList<RunningJob> Jobs)
    {
        public int Images => Jobs.Sum(j => j.Images);
        /// <summary>From taking the head job to handing the run out (the gathering window, when it waited).</summary>
        public TimeSpan Gathered { get; init; }
    }

    public int QueuedCount { get { lock (_gate) return _order.Count; } }

    /// <summary>
    /// Adds a stored, Queued job to the fair-share order and returns its 1-based position there at that moment (taken
    /// before a worker can see it: an idle worker may take it at once, so asking <see cref="GetPosition"/> afterwards can
    /// already answer null).
    /// </summary>
    public int Enqueue(Guid jobId, string ownerId, double units = 1, double weight = 1, Data.Entities.GenerationSettings? settings = null) =>
        Add([new QueuedJob(jobId, ownerId, units, weight, settings)], jobId) ?? throw new InvalidOperationException("The job was not queued.");

    /// <summary>Adds many stored jobs at once (start-up), in the order given.</summary>
    public void EnqueueRange(IEnumerable<QueuedJob> jobs) => Add(jobs, null);

    private int? Add(IEnumerable<QueuedJob> jobs, Guid? positionOf)
    {
        int? position = null;
        var described = jobs.Select(j => (Job: j, Slot: j.Settings is null ? BatchSlot.Alone(1) : batching.Describe(j.Settings))).ToList();
        var count = 0;
        lock (_gate)
        {
            foreach (var (job, slot) in described)
            {
                ArgumentException.ThrowIfNullOrEmpty(job.OwnerId);
                _waiting[job.JobId] = (job.Units, slot);
                _order.Enqueue(job.JobId, job.OwnerId, job.Units * costs.SecondsPerUnit, job.Weight);
                count++;
            }
            if (positionOf is { } id && _order.Positions().TryGetValue(id, out var placed)) position = placed.Position;
        }
        if (count == 0) return position;
        TaskCompletionSource arrived;
        lock (_gate) (arrived, _arrival) = (_arrival, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously));
        _available.Release(count);
        arrived.TrySetResult();
        PublishPositions();
        return position;
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

    /// <summary>Jobs the worker holds now (in runs in flight).</summary>
    public int RunningCount { get { lock (_gate) return _running.Count; } }

    /// <summary>Whether the job is in a run the worker holds now.</summary>
    public bool IsRunning(Guid jobId)
    {
        lock (_gate) return _running.ContainsKey(jobId);
    }

    /// <summary>A running job of this user (the oldest), or null.</summary>
    public Guid? RunningJobOf(string userId)
    {
        lock (_gate) return _running.Values.Where(r => r.OwnerId == userId).OrderBy(r => r.DequeuedAt).Select(r => (Guid?)r.JobId).FirstOrDefault();
    }

    /// <summary>
    /// For the worker: waits for the fair-share head job, then fills its run with other waiting jobs of the same batch
    /// key in fair-share order (any user) while their images fit the head's budget; marks them running in memory.
    /// When the run has room and other users are likely to submit again at once (their jobs just ended and they have
    /// nothing waiting or running), it gathers for up to
    /// <see cref="JobBatching.GatherWindow"/> (from the head's start) so that their next jobs share this run instead
    /// of waiting for the next one: users who wait for one image before asking for the next would otherwise split into
    /// a run of the first to come back and a run of the rest.
    /// Each job is charged its estimate as it starts (so the order stays fair while it runs), settled in <see cref="Complete"/>.
    /// </summary>
    public async Task<RunningBatch> DequeueRunAsync(CancellationToken cancellationToken)
    {
        while (true)
        {
            await _available.WaitAsync(cancellationToken);
            List<RunningJob>? jobs = null;
            BatchSlot? head = null;
            var used = 0;
            var started = time.GetUtcNow();
            var clock = time.GetTimestamp();
            lock (_gate)
            {
                if (_order.Dequeue() is { } first)
                {
                    jobs = [Start(first, started, out var slot)];
                    head = slot;
                    used = slot.Images;
                    Fill(jobs, slot, ref used, started);
                }
            }
            if (jobs is null || head is null) continue;

            var window = batching.GatherWindow;
            if (window > TimeSpan.Zero && head.Key is not null)
                used = await GatherAsync(jobs, head, used, clock, window, cancellationToken);
            foreach (var job in jobs) job.Share = (double)job.Images / used;
            PublishPositions();
            return new RunningBatch(jobs) { Gathered = time.GetElapsedTime(clock) };
        }
    }

    /// <summary>Completes at the next <see cref="EnqueueRange"/> (a joinable run's feeder waits on it).</summary>
    public Task NextArrival
    {
        get { lock (_gate) return _arrival.Task; }
    }

    /// <summary>
    /// Jobs to join a running run of <paramref name="key"/> (continuous batching), at most <paramref name="room"/>
    /// images: taken from the FRONT of the fair order only, stopping at the first job that is of another key or does not
    /// fit, so a running run never takes jobs past one that should run before them (that one's run starts when this one
    /// drains). Jobs of a user who already has <paramref name="maxRunningPerUser"/> jobs running are passed over (they
    /// wait; their owner has enough in the run), so one user's flood cannot fill a run that stays open. Started like
    /// dequeued jobs (each with its own share of 1 until its outcome says how many it shared with).
    /// </summary>
    public IReadOnlyList<RunningJob> TakeJoiners(Inference.Abstractions.BatchKey key, int room, int maxRunningPerUser)
    {
        var taken = new List<RunningJob>();
        lock (_gate)
        {
            var now = time.GetUtcNow();
            var runningOf = _running.Values.GroupBy(r => r.OwnerId, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.Count(), StringComparer.Ordinal);
            foreach (var item in _order.Order().ToList())
            {
                if (runningOf.GetValueOrDefault(item.UserId) >= maxRunningPerUser) continue;
                if (!_waiting.TryGetValue(item.JobId, out var waiting) || !key.Equals(waiting.Slot.Key) || waiting.Slot.Images > room) break;
                runningOf[item.UserId] = runningOf.GetValueOrDefault(item.UserId) + 1;
                _order.Remove(item.JobId);
                _available.Wait(0); // the job's wake-up is used by this run
                taken.Add(Start(item, now, out var slot));
                room -= slot.Images;
            }
        }
        if (taken.Count > 0) PublishPositions();
        return taken;
    }

    /// <summary>Adds waiting jobs of the head's key, in fair-share order, while they fit (caller holds the lock).</summary>
    private void Fill(List<RunningJob> jobs, BatchSlot head, ref int used, DateTimeOffset now)
    {
        while (head.Key is not null && used < head.MaxImages && NextCompatible(head.Key, head.MaxImages - used) is { } next)
        {
            _order.Remove(next.JobId);
            _available.Wait(0); // the job's wake-up is used by this run
            jobs.Add(Start(next, now, out var slot));
            used += slot.Images;
        }
    }

    /// <summary>
    /// Waits for the next jobs of users likely to come back at once (see <see cref="DequeueRunAsync"/>), taking each
    /// compatible arrival, until the run is full, nobody more is expected or <paramref name="window"/> has passed since
    /// <paramref name="started"/> (a timestamp of <see cref="TimeProvider.GetTimestamp"/>).
    /// </summary>
    private async Task<int> GatherAsync(List<RunningJob> jobs, BatchSlot head, int used, long started, TimeSpan window, CancellationToken cancellationToken)
    {
        while (true)
        {
            Task arrival;
            lock (_gate)
            {
                Fill(jobs, head, ref used, time.GetUtcNow());
                if (used >= head.MaxImages || ExpectedBack(jobs) == 0) return used;
                arrival = _arrival.Task;
            }
            var remaining = window - time.GetElapsedTime(started);
            if (remaining <= TimeSpan.Zero) return used;
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            await Task.WhenAny(arrival, Task.Delay(remaining, time, timeout.Token));
            await timeout.CancelAsync(); // the delay, when the arrival came first
            cancellationToken.ThrowIfCancellationRequested();
        }
    }

    /// <summary>
    /// How many other users are likely to submit again within moments: their last job ended (<see cref="Complete"/>,
    /// which the worker calls as a job's row is committed, before its owner is told) within
    /// <see cref="RecentlyDone"/>, and they have no job waiting, running (their next chance is after that one) or in
    /// this run (caller holds the lock).
    /// </summary>
    private int ExpectedBack(List<RunningJob> run)
    {
        var now = time.GetUtcNow();
        foreach (var stale in _recentlyDone.Where(d => now - d.Value > RecentlyDone).Select(d => d.Key).ToList())
            _recentlyDone.Remove(stale);
        if (_recentlyDone.Count == 0) return 0;
        var busy = run.Select(j => j.OwnerId).Concat(_running.Values.Select(r => r.OwnerId)).Concat(_order.Order().Select(i => i.UserId))
            .ToHashSet(StringComparer.Ordinal);
        return _recentlyDone.Keys.Count(user => !busy.Contains(user));
    }

    /// <summary>The first waiting job in fair-share order with this key whose images fit (caller holds the lock).</summary>
    private FairShareItem? NextCompatible(Inference.Abstractions.BatchKey key, int room) =>
        _order.Order().FirstOrDefault(i => _waiting.TryGetValue(i.JobId, out var w) && key.Equals(w.Slot.Key) && w.Slot.Images <= room);

    private RunningJob Start(FairShareItem item, DateTimeOffset now, out BatchSlot slot)
    {
        _waiting.Remove(item.JobId, out var waiting);
        slot = waiting.Slot ?? BatchSlot.Alone(1);
        _order.Charge(item.UserId, item.EstimatedSeconds);
        var job = new RunningJob(item.JobId, item.UserId, new CancellationTokenSource())
        {
            DequeuedAt = now,
            Units = waiting.Units > 0 ? waiting.Units : 1,
            EstimatedSeconds = item.EstimatedSeconds,
            Images = slot.Images,
        };
        _running[item.JobId] = job;
        return job;
    }

    /// <summary>
    /// For the worker: a running job has ended. Its owner is charged its share of the GPU time its run held (for fair
    /// share); when it succeeded, that real cost also teaches the estimator.
    /// </summary>
    public void Complete(RunningJob job, bool succeeded = false)
    {
        var held = Math.Max(0, (time.GetUtcNow() - job.ChargedFrom).TotalSeconds) * job.Share;
        lock (_gate)
        {
            if (!_running.Remove(job.JobId)) return; // completed already
            _recentlyDone[job.OwnerId] = time.GetUtcNow();
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
            if (_running.TryGetValue(jobId, out var running))
            {
                if (running.OwnerId != userId) return QueueCancelResult.NotFound;
                running.Cancellation.Cancel();
                return QueueCancelResult.RunningSignalled;
            }
            if (!_order.Order().Any(i => i.JobId == jobId && i.UserId == userId)) return QueueCancelResult.NotFound;
            _order.Remove(jobId);
            _waiting.Remove(jobId);
        }
        PublishPositions();
        return QueueCancelResult.RemovedFromQueue;
    }

    private double RunningRemainingSeconds()
    {
        if (_running.Count == 0) return 0;
        var now = time.GetUtcNow();
        return _running.Values.Max(r => Math.Max(0, r.EstimatedSeconds - (now - r.ChargedFrom).TotalSeconds));
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
