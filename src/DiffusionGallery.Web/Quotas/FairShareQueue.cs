namespace DiffusionGallery.Web.Quotas;

/// <summary>One waiting job as the scheduler sees it.</summary>
public sealed record FairShareItem(Guid JobId, string UserId, double EstimatedSeconds, double Weight, long Sequence);

/// <summary>
/// Weighted fair queueing on GPU-seconds. Each user carries their recent usage (GPU-seconds, decaying with
/// <see cref="HalfLife"/>); the next job is the head of the backlogged user with the least usage per unit of weight.
/// So a user with 50 queued jobs and one with 1 alternate, recent heavy use lowers priority, and a weight of 2
/// gets twice the GPU time of a weight of 1 while both wait. A user who starts waiting is lifted to at most
/// <see cref="MaxCreditSeconds"/> below the least-served waiting user (as in start-time fair queueing), so a long idle
/// spell buys a bounded head start, never a monopoly that starves the others.
/// Not thread-safe: the owner (the generation queue) holds its lock around every call.
/// </summary>
public sealed class FairShareQueue(TimeProvider time, TimeSpan halfLife, double maxCreditSeconds = FairShareQueue.DefaultMaxCreditSeconds)
{
    public static readonly TimeSpan DefaultHalfLife = TimeSpan.FromMinutes(30);
    public const double DefaultMaxCreditSeconds = 60;

    public double MaxCreditSeconds { get; } = maxCreditSeconds;

    private readonly Dictionary<string, Queue<FairShareItem>> _waiting = new(StringComparer.Ordinal);
    private readonly Dictionary<string, (double Usage, DateTimeOffset At)> _usage = new(StringComparer.Ordinal);
    private long _sequence;

    public TimeSpan HalfLife { get; } = halfLife;

    public int Count => _waiting.Values.Sum(q => q.Count);

    public int CountOf(string userId) => _waiting.TryGetValue(userId, out var q) ? q.Count : 0;

    public FairShareItem Enqueue(Guid jobId, string userId, double estimatedSeconds, double weight)
    {
        var now = time.GetUtcNow();
        if (!_waiting.TryGetValue(userId, out var queue) || queue.Count == 0)
        {
            queue ??= new Queue<FairShareItem>();
            _waiting[userId] = queue;
            Lift(userId, weight, now);
        }
        var item = new FairShareItem(jobId, userId, Math.Max(0, estimatedSeconds), Math.Max(0.01, weight), ++_sequence);
        queue.Enqueue(item);
        return item;
    }

    /// <summary>The next job to run, or null when nothing waits. Its cost is not charged yet: call <see cref="Charge"/> when it ran.</summary>
    public FairShareItem? Dequeue()
    {
        var now = time.GetUtcNow();
        var user = Pick(_waiting, UsageSnapshot(now));
        if (user is null) return null;
        var queue = _waiting[user];
        var item = queue.Dequeue();
        if (queue.Count == 0) _waiting.Remove(user);
        return item;
    }

    public bool Remove(Guid jobId)
    {
        foreach (var (user, queue) in _waiting)
        {
            if (!queue.Any(i => i.JobId == jobId)) continue;
            var rest = queue.Where(i => i.JobId != jobId).ToList();
            if (rest.Count == 0) _waiting.Remove(user);
            else _waiting[user] = new Queue<FairShareItem>(rest);
            return true;
        }
        return false;
    }

    /// <summary>
    /// Adds GPU-seconds to a user's recent usage: an estimate when their job starts, then the difference to what it
    /// really used (negative when it ran shorter); the usage never drops below 0.
    /// </summary>
    public void Charge(string userId, double gpuSeconds)
    {
        var now = time.GetUtcNow();
        _usage[userId] = (Math.Max(0, Decayed(userId, now) + gpuSeconds), now);
    }

    /// <summary>Recent usage (decayed GPU-seconds) of a user; also used to seed the state from the ledger at start-up.</summary>
    public double UsageOf(string userId) => Decayed(userId, time.GetUtcNow());

    /// <summary>The waiting jobs in the order they would run if every estimate were exact.</summary>
    public IReadOnlyList<FairShareItem> Order() => Simulate(null).Order;

    /// <summary>Where a new job of this user would land: its 1-based position and the estimated seconds until it starts.</summary>
    public (int Position, double WaitSeconds) Preview(string userId, double estimatedSeconds, double weight)
    {
        var hypothetical = new FairShareItem(Guid.Empty, userId, estimatedSeconds, Math.Max(0.01, weight), long.MaxValue);
        var (order, starts) = Simulate(hypothetical);
        var index = order.FindIndex(i => ReferenceEquals(i, hypothetical));
        return (index + 1, starts[index]);
    }

    /// <summary>Seconds from now until each waiting job is expected to start (not counting the job running now).</summary>
    public IReadOnlyDictionary<Guid, (int Position, double WaitSeconds)> Positions()
    {
        var (order, starts) = Simulate(null);
        var result = new Dictionary<Guid, (int, double)>(order.Count);
        for (var i = 0; i < order.Count; i++) result[order[i].JobId] = (i + 1, starts[i]);
        return result;
    }

    private (List<FairShareItem> Order, List<double> Starts) Simulate(FairShareItem? extra)
    {
        var now = time.GetUtcNow();
        var usage = UsageSnapshot(now);
        var queues = _waiting.ToDictionary(p => p.Key, p => new Queue<FairShareItem>(p.Value), StringComparer.Ordinal);
        if (extra is not null)
        {
            if (!queues.TryGetValue(extra.UserId, out var q) || q.Count == 0)
            {
                queues[extra.UserId] = q = new Queue<FairShareItem>();
                usage[extra.UserId] = LiftedUsage(usage, queues, extra.UserId, extra.Weight, MaxCreditSeconds);
            }
            q.Enqueue(extra);
        }
        var order = new List<FairShareItem>();
        var starts = new List<double>();
        var clock = 0.0;
        while (true)
        {
            var user = Pick(queues, usage);
            if (user is null) break;
            var item = queues[user].Dequeue();
            if (queues[user].Count == 0) queues.Remove(user);
            order.Add(item);
            starts.Add(clock);
            clock += item.EstimatedSeconds;
            usage[user] = usage.GetValueOrDefault(user) + item.EstimatedSeconds;
        }
        return (order, starts);
    }

    /// <summary>The backlogged user with the least usage per weight; ties go to the job submitted first.</summary>
    private static string? Pick(Dictionary<string, Queue<FairShareItem>> queues, Dictionary<string, double> usage)
    {
        string? best = null;
        double bestKey = double.MaxValue;
        long bestSequence = long.MaxValue;
        foreach (var (user, queue) in queues)
        {
            if (queue.Count == 0) continue;
            var head = queue.Peek();
            var key = usage.GetValueOrDefault(user) / head.Weight;
            if (key < bestKey - 1e-9 || (Math.Abs(key - bestKey) <= 1e-9 && head.Sequence < bestSequence))
            {
                best = user;
                bestKey = key;
                bestSequence = head.Sequence;
            }
        }
        return best;
    }

    private void Lift(string userId, double weight, DateTimeOffset now)
    {
        var usage = UsageSnapshot(now);
        var lifted = LiftedUsage(usage, _waiting, userId, weight, MaxCreditSeconds);
        if (lifted > usage.GetValueOrDefault(userId)) _usage[userId] = (lifted, now);
    }

    /// <summary>A user who starts waiting gets at least the usage-per-weight of the least-served waiting user, less the credit.</summary>
    private static double LiftedUsage(Dictionary<string, double> usage, Dictionary<string, Queue<FairShareItem>> queues, string userId, double weight, double credit)
    {
        var others = queues.Where(p => p.Key != userId && p.Value.Count > 0).Select(p => usage.GetValueOrDefault(p.Key) / p.Value.Peek().Weight).ToList();
        var own = usage.GetValueOrDefault(userId);
        return others.Count == 0 ? own : Math.Max(own, others.Min() * weight - credit);
    }

    private Dictionary<string, double> UsageSnapshot(DateTimeOffset now) =>
        _usage.Keys.ToDictionary(u => u, u => Decayed(u, now), StringComparer.Ordinal);

    private double Decayed(string userId, DateTimeOffset now)
    {
        if (!_usage.TryGetValue(userId, out var entry)) return 0;
        var elapsed = (now - entry.At).TotalSeconds;
        return elapsed <= 0 ? entry.Usage : entry.Usage * Math.Pow(0.5, elapsed / HalfLife.TotalSeconds);
    }
}
