using DiffusionGallery.Web.Data;
using DiffusionGallery.Web.Data.Entities;
using DiffusionGallery.Web.Options;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace DiffusionGallery.Web.Generation;

/// <summary>
/// The singleton job queue. Jobs are rows in the database; this class keeps the in-memory order:
/// one FIFO per user, users served round-robin (A1 A2 B1 C1 runs as A1 B1 C1 A2), so one user's jobs
/// never block another's beyond the job currently running.
/// </summary>
public sealed class GenerationQueue(
    IDbContextFactory<ApplicationDbContext> dbFactory,
    GenerationRequestFactory requestFactory,
    JobNotifier notifier,
    IOptions<GenerationOptions> options,
    IOptions<QuotaOptions> quotas,
    TimeProvider time,
    ILogger<GenerationQueue> logger)
{
    private readonly Lock _gate = new();
    private readonly LinkedList<string> _userOrder = new();
    private readonly Dictionary<string, Queue<Guid>> _perUser = new(StringComparer.Ordinal);
    private readonly Dictionary<string, int> _reserved = new(StringComparer.Ordinal);
    private readonly SemaphoreSlim _available = new(0);
    private RunningJob? _running;

    public sealed record RunningJob(Guid JobId, string OwnerId, CancellationTokenSource Cancellation);

    public int QueuedCount { get { lock (_gate) return _perUser.Values.Sum(q => q.Count); } }

    /// <summary>Validates, persists and queues a job. Throws <see cref="DiffusionGallery.Inference.Abstractions.InvalidGenerationRequestException"/> or <see cref="QuotaExceededException"/>.</summary>
    public async Task<GenerationJob> EnqueueAsync(string userId, GenerationSettings settings, Guid? parentImageId = null, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(userId);
        var normalized = settings.Clone();
        var request = requestFactory.Create(normalized); // throws on bad input, before anything is stored
        normalized.Model = request.Model!;
        normalized.Prompt = request.Prompt;
        normalized.NegativePrompt = request.NegativePrompt;
        normalized.KarrasSigmas = request.KarrasSigmas;

        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var policy = await db.QuotaPolicies.AsNoTracking().SingleOrDefaultAsync(q => q.UserId == userId, cancellationToken);
        var maxQueued = policy?.MaxQueuedJobs ?? options.Value.MaxQueuedJobsPerUser;
        lock (_gate)
        {
            // Slots being stored right now count too, so concurrent submissions cannot overshoot the limits.
            var mine = (_perUser.TryGetValue(userId, out var q) ? q.Count : 0) + _reserved.GetValueOrDefault(userId);
            if (mine >= maxQueued)
                throw new QuotaExceededException($"You already have {mine} jobs waiting (limit {maxQueued}). Wait for one to finish.");
            if (_perUser.Values.Sum(x => x.Count) + _reserved.Values.Sum() >= options.Value.MaxQueueLength)
                throw new QuotaExceededException("The server queue is full. Try again in a moment.");
            _reserved[userId] = _reserved.GetValueOrDefault(userId) + 1;
        }
        try
        {
            return await StoreAndQueueAsync(db, userId, normalized, parentImageId, cancellationToken);
        }
        finally
        {
            lock (_gate)
            {
                if (--_reserved[userId] == 0) _reserved.Remove(userId);
            }
        }
    }

    private async Task<GenerationJob> StoreAndQueueAsync(ApplicationDbContext db, string userId, GenerationSettings normalized, Guid? parentImageId, CancellationToken cancellationToken)
    {
        var policy = await db.QuotaPolicies.AsNoTracking().SingleOrDefaultAsync(q => q.UserId == userId, cancellationToken);
        await EnsureDailyQuotaAsync(db, userId, policy?.ImagesPerDay ?? quotas.Value.ImagesPerDay, normalized.BatchCount, cancellationToken);
        if (parentImageId is { } parent && !await db.GeneratedImages.AnyAsync(i => i.Id == parent && i.OwnerId == userId, cancellationToken))
            parentImageId = null; // lineage only to images the user may see

        var job = new GenerationJob
        {
            Id = Guid.CreateVersion7(),
            OwnerId = userId,
            State = JobState.Queued,
            Settings = normalized,
            CreatedAt = time.GetUtcNow(),
            ParentImageId = parentImageId,
        };
        db.GenerationJobs.Add(job);
        await db.SaveChangesAsync(cancellationToken);

        lock (_gate) AddToMemory(job.Id, userId);
        _available.Release();
        logger.LogInformation("Job {JobId} queued for user {UserId}", job.Id, userId);
        PublishPositions();
        return job;
    }

    private async Task EnsureDailyQuotaAsync(ApplicationDbContext db, string userId, int limit, int images, CancellationToken cancellationToken)
    {
        if (limit <= 0) return;
        var since = time.GetUtcNow().AddDays(-1);
        var used = await db.UsageEntries.Where(u => u.UserId == userId && u.CreatedAt >= since).SumAsync(u => u.Images, cancellationToken);
        var waiting = await db.GenerationJobs.Where(j => j.OwnerId == userId && (j.State == JobState.Queued || j.State == JobState.Running)).SumAsync(j => j.Settings.BatchCount, cancellationToken);
        if (used + waiting + images > limit)
            throw new QuotaExceededException($"Daily quota reached: {used + waiting} of {limit} images used or queued in the last 24 hours.");
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

    /// <summary>Cancels a queued or running job of this user. Returns false when the job is not theirs or already finished.</summary>
    public async Task<bool> CancelAsync(Guid jobId, string userId, CancellationToken cancellationToken = default)
    {
        bool removedFromQueue = false;
        lock (_gate)
        {
            if (_running is { } running && running.JobId == jobId)
            {
                if (running.OwnerId != userId) return false;
                running.Cancellation.Cancel();
                return true;
            }
            if (_perUser.TryGetValue(userId, out var q) && q.Contains(jobId))
            {
                var rest = q.Where(id => id != jobId).ToList();
                q.Clear();
                foreach (var id in rest) q.Enqueue(id);
                if (q.Count == 0)
                {
                    _perUser.Remove(userId);
                    _userOrder.Remove(userId);
                }
                removedFromQueue = true;
            }
        }
        if (!removedFromQueue) return false;

        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        await db.GenerationJobs.Where(j => j.Id == jobId && j.OwnerId == userId && j.State == JobState.Queued)
            .ExecuteUpdateAsync(s => s.SetProperty(j => j.State, JobState.Cancelled).SetProperty(j => j.FinishedAt, time.GetUtcNow()), cancellationToken);
        logger.LogInformation("Job {JobId} cancelled while queued", jobId);
        notifier.Publish(new JobUpdate { JobId = jobId, State = JobState.Cancelled });
        PublishPositions();
        return true;
    }

    /// <summary>At start-up: jobs left Running by a crash are failed; Queued ones are queued again in their original order.</summary>
    public async Task RecoverAsync(CancellationToken cancellationToken)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var interrupted = await db.GenerationJobs.Where(j => j.State == JobState.Running)
            .ExecuteUpdateAsync(s => s.SetProperty(j => j.State, JobState.Failed)
                .SetProperty(j => j.Error, "The server stopped while this job was running.")
                .SetProperty(j => j.FinishedAt, time.GetUtcNow()), cancellationToken);
        var queued = await db.GenerationJobs.Where(j => j.State == JobState.Queued)
            .OrderBy(j => j.CreatedAt).ThenBy(j => j.Id)
            .Select(j => new { j.Id, j.OwnerId }).ToListAsync(cancellationToken);
        lock (_gate)
        {
            foreach (var job in queued) AddToMemory(job.Id, job.OwnerId);
        }
        if (queued.Count > 0) _available.Release(queued.Count);
        logger.LogInformation("Queue recovered: {Queued} queued jobs resumed, {Interrupted} interrupted jobs failed", queued.Count, interrupted);
    }

    private void PublishPositions()
    {
        List<Guid> order;
        lock (_gate) order = SimulatedOrder().ToList();
        for (var i = 0; i < order.Count; i++)
            notifier.Publish(new JobUpdate { JobId = order[i], State = JobState.Queued, QueuePosition = i + 1 });
    }
}
