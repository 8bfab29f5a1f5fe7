using System.Diagnostics;
using DiffusionGallery.Inference.Abstractions;
using DiffusionGallery.Web.Data;
using DiffusionGallery.Web.Data.Entities;
using DiffusionGallery.Web.Gallery;
using DiffusionGallery.Web.Options;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace DiffusionGallery.Web.Generation;

/// <summary>
/// The consumer of the queue: one loop per device (<see cref="EngineDevices"/>), each taking shared runs (jobs of one
/// batch key from any users, see <see cref="GenerationQueue.DequeueRunAsync"/>) through the engine's
/// <see cref="IBatchImageGenerator"/>. Up to <see cref="GenerationOptions.RunsInFlight"/> runs per device are in flight,
/// so the next run is at the engine's GPU gate while the previous one's results are saved. Each job keeps its own
/// cancellation, progress and outcome. A run's results are stored together by <see cref="RunResultWriter"/>, crash-consistently
/// (all files first, in parallel, then every job's rows, ledger and state in one transaction; a crash in between leaves
/// only files, swept at start-up), and each run logs its engine and saving times. Depends on the queue, the
/// database, the image store and the notifier only, no web or request state (see Generation/README.md).
/// </summary>
public sealed partial class GenerationWorker(
    GenerationQueue queue,
    GenerationRequestFactory requestFactory,
    Uploads.ReferenceImages references,
    EngineDevices engines,
    IDbContextFactory<ApplicationDbContext> dbFactory,
    ImageStore store,
    JobNotifier notifier,
    TimeProvider time,
    IOptions<GenerationOptions> options,
    ILogger<GenerationWorker> logger) : BackgroundService
{
    protected override Task ExecuteAsync(CancellationToken stoppingToken) =>
        Task.WhenAll(engines.All.Select(engine => Task.Run(() => RunDeviceAsync(engine, stoppingToken), CancellationToken.None)));

    private async Task RunDeviceAsync(DeviceEngine engine, CancellationToken stoppingToken)
    {
        var inFlight = options.Value.RunsInFlight;
        using var slots = new SemaphoreSlim(inFlight);
        var previousDenoised = Task.CompletedTask;
        while (!stoppingToken.IsCancellationRequested)
        {
            GenerationQueue.RunningBatch run;
            try
            {
                await slots.WaitAsync(stoppingToken);
                try
                {
                    // Take the next run only when the previous one has reached its last step (or ended): it then fills
                    // with everything that arrived meanwhile, and still waits at the engine's gate while the previous
                    // run decodes and encodes its images, so the GPU does not idle on that.
                    await previousDenoised.WaitAsync(stoppingToken);
                    run = await queue.DequeueRunAsync(stoppingToken);
                }
                catch
                {
                    slots.Release();
                    throw;
                }
            }
            catch (OperationCanceledException)
            {
                break;
            }
            var denoised = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            previousDenoised = denoised.Task;
            _ = RunAndReleaseAsync(engine, run, slots, denoised, stoppingToken);
        }
        for (var i = 0; i < inFlight; i++) await slots.WaitAsync(CancellationToken.None); // every run in flight has ended
    }

    private async Task RunAndReleaseAsync(DeviceEngine engine, GenerationQueue.RunningBatch run, SemaphoreSlim slots, TaskCompletionSource denoised,
        CancellationToken stoppingToken)
    {
        var outcomes = run.Jobs.ToDictionary(j => j.JobId, _ => false);
        try
        {
            await RunAsync(engine, run, outcomes, () => denoised.TrySetResult(), stoppingToken);
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // shutting down: rows stay Running and are requeued (once) at next start-up
        }
        catch (Exception ex)
        {
            logger.LogError(ex, "Run of jobs {JobIds} could not be finished", string.Join(", ", run.Jobs.Select(j => j.JobId)));
        }
        finally
        {
            // charges each owner's fair share; a success teaches the cost estimator
            foreach (var job in run.Jobs) queue.Complete(job, outcomes[job.JobId]);
            denoised.TrySetResult();
            slots.Release();
        }
    }

    private sealed record Item(GenerationQueue.RunningJob Running, GenerationJob Job, GenerationRequest Request, JobProgressReporter Progress);

    private readonly RunResultWriter _results = new(store, notifier, time, logger);

    private async Task RunAsync(DeviceEngine engine, GenerationQueue.RunningBatch run, Dictionary<Guid, bool> succeeded, Action lastStep, CancellationToken stoppingToken)
    {
        await using var db = await dbFactory.CreateDbContextAsync(stoppingToken);
        var clock = Stopwatch.StartNew();
        var joining = options.Value.JoinRunningRuns;
        // Joinable runs take their next run when they have drained, not at a job's last step (JoinableRun).
        var (items, early) = await PrepareAsync(db, engine, run.Jobs, joining ? null : lastStep, clock, stoppingToken);
        var claimTime = clock.Elapsed;
        // A job ends in the queue as soon as its row is committed, before its owner hears of it: a run being gathered then expects the owner back (GenerationQueue.DequeueRunAsync)
        var byId = run.Jobs.ToDictionary(j => j.JobId);
        void Ended(JobEnding ending) => queue.Complete(byId[ending.Job.Id], ending.State == JobState.Succeeded);
        await _results.FinishAsync(db, early, stoppingToken, Ended); // (rare: a reference image that cannot be read, or cancelled meanwhile)
        // The queue groups by the key of the stored settings; the loaded requests decide (a mismatch runs separately).
        var first = true;
        foreach (var group in items.GroupBy(i => engine.Batches.KeyOf(i.Request)))
        {
            var batch = group.ToList();
            if (joining)
            {
                await new JoinableRun(this, engine, group.Key, batch, stoppingToken).RunAsync(succeeded, lastStep);
                continue;
            }
            IReadOnlyList<BatchItemOutcome> outcomes;
            var startedAt = time.GetUtcNow();
            var engineClock = Stopwatch.StartNew();
            try
            {
                var batchItems = batch.Select(i => new BatchItem(i.Request, i.Progress, i.Running.Cancellation.Token)).ToList();
                outcomes = await Task.Run(() => engine.Batches.GenerateBatchAsync(batchItems, stoppingToken), stoppingToken);
            }
            catch (Exception ex) when (ex is not OperationCanceledException || !stoppingToken.IsCancellationRequested)
            {
                outcomes = batch.Select(_ => new BatchItemOutcome(null, ex)).ToList();
            }
            lastStep(); // (also when no item reported it: all cancelled or failed)
            var engineTime = engineClock.Elapsed;
            // Off the GPU's path: the next run (another slot) is already at the engine while these are saved.
            // Each group is charged its own time: the first also its claim (and reference loading), never another group's.
            var groupTime = first ? clock.Elapsed : engineTime;
            first = false;
            var runImages = batch.Sum(i => i.Request.BatchSize);
            var endings = new List<JobEnding>();
            var stopped = false;
            for (var k = 0; k < batch.Count; k++)
            {
                var (item, outcome) = (batch[k], outcomes[k]);
                if (Ending(item, outcome, groupTime * item.Running.Share, runImages, startedAt, engine.Generator.ExecutionProvider, stoppingToken) is not { } ending)
                {
                    stopped = true; // the whole run stopped (shutting down): the row stays Running, requeued at start-up
                    continue;
                }
                endings.Add(ending);
            }
            var saveClock = Stopwatch.StartNew();
            var done = await _results.FinishAsync(db, endings, stoppingToken, Ended);
            foreach (var ending in endings) succeeded[ending.Job.Id] = done.Contains(ending.Job.Id);
            logger.LogInformation("Run of {Jobs} jobs ({Images} images): engine {EngineMs:F0} ms [{Stages}], saved in {SaveMs:F0} ms (claimed in {ClaimMs:F1} ms, gathered in {GatherMs:F1} ms)",
                batch.Count, runImages, engineTime.TotalMilliseconds, RunStages.Describe(outcomes.Select(o => o.Result)), saveClock.Elapsed.TotalMilliseconds, claimTime.TotalMilliseconds,
                run.Gathered.TotalMilliseconds);
            if (stopped) throw new OperationCanceledException(stoppingToken);
        }
    }

    /// <summary>How one item of a shared run ended; null when the whole run was stopped (shutting down).</summary>
    private static JobEnding? Ending(Item item, BatchItemOutcome outcome, TimeSpan gpuTime, int runImages, DateTimeOffset startedAt, string provider,
        CancellationToken stoppingToken)
    {
        var (running, job) = (item.Running, item.Job);
        if (running.Cancellation.IsCancellationRequested) return JobEnding.Cancelled(job, gpuTime, provider, startedAt); // (also when its result came back)
        if (outcome.Cancelled && stoppingToken.IsCancellationRequested) return null;
        if (outcome.Result is { } result)
            return JobEnding.Succeeded(job, result, result.SharedBatchSize > 0 ? result.SharedBatchSize : runImages, gpuTime, startedAt);
        return JobEnding.Failed(job, outcome.Error ?? new InvalidOperationException("no result"), gpuTime, provider, startedAt);
    }

    /// <summary>
    /// Claims the jobs, tells their owners they run and loads their requests (with reference images): the items ready for
    /// the engine, and the endings of those that cannot run (a reference that cannot be read, or cancelled meanwhile).
    /// Jobs no longer queued (cancelled or finished before they reached the worker) are left out of both.
    /// </summary>
    private async Task<(List<Item> Items, List<JobEnding> Early)> PrepareAsync(ApplicationDbContext db, DeviceEngine engine,
        IReadOnlyList<GenerationQueue.RunningJob> jobs, Action? lastStep, Stopwatch clock, CancellationToken stoppingToken)
    {
        var items = new List<Item>();
        var early = new List<JobEnding>();
        var claimed = await ClaimAsync(db, jobs.Select(j => j.JobId).ToList(), stoppingToken);
        foreach (var running in jobs)
        {
            if (!claimed.TryGetValue(running.JobId, out var job)) continue; // cancelled (or finished) before it reached the worker
            notifier.Publish(new JobUpdate { JobId = job.Id, State = JobState.Running, TotalSteps = job.Settings.Steps });
            try
            {
                var request = await references.LoadAsync(job.OwnerId, job.Settings, requestFactory.ToEngineRequest(job.Settings), running.Cancellation.Token);
                items.Add(new Item(running, job, request, new JobProgressReporter(job.Id, notifier, time, lastStep)));
            }
            catch (Exception ex) when (ex is not OperationCanceledException || running.Cancellation.IsCancellationRequested)
            {
                var (gpuTime, provider) = (clock.Elapsed * running.Share, engine.Generator.ExecutionProvider);
                early.Add(running.Cancellation.IsCancellationRequested ? JobEnding.Cancelled(job, gpuTime, provider) : JobEnding.Failed(job, ex, gpuTime, provider));
            }
        }
        return (items, early);
    }

    /// <summary>Queued → Running for the run's jobs still queued, in one write transaction (one round on the GPU's path, not one per job).</summary>
    private async Task<Dictionary<Guid, GenerationJob>> ClaimAsync(ApplicationDbContext db, IReadOnlyList<Guid> jobIds, CancellationToken stoppingToken)
    {
        var started = time.GetUtcNow();
        await using var transaction = await db.BeginWriteAsync(stoppingToken);
        var jobs = await db.GenerationJobs.Where(j => jobIds.Contains(j.Id) && j.State == JobState.Queued).ToListAsync(stoppingToken);
        foreach (var job in jobs)
        {
            job.State = JobState.Running;
            job.StartedAt = started;
            job.Attempts++;
        }
        await db.SaveChangesAsync(stoppingToken);
        await transaction.CommitAsync(stoppingToken);
        db.ChangeTracker.Clear();
        return jobs.ToDictionary(j => j.Id);
    }
}
