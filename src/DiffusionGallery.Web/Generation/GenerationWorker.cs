using System.Diagnostics;
using DiffusionGallery.Inference.Abstractions;
using DiffusionGallery.Web.Data;
using DiffusionGallery.Web.Data.Entities;
using DiffusionGallery.Web.Gallery;
using DiffusionGallery.Web.Options;
using DiffusionGallery.Web.Quotas;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace DiffusionGallery.Web.Generation;

/// <summary>
/// The consumer of the queue: one loop per device (<see cref="EngineDevices"/>), each taking shared runs (jobs of one
/// batch key from any users, see <see cref="GenerationQueue.DequeueRunAsync"/>) through the engine's
/// <see cref="IBatchImageGenerator"/>. Up to <see cref="GenerationOptions.RunsInFlight"/> runs per device are in flight,
/// so the next run is at the engine's GPU gate while the previous one's results are saved. Each job keeps its own
/// cancellation, progress and outcome. Results are stored crash-consistently (files first, then rows, ledger and job
/// state in one transaction; a crash in between leaves only files, swept at start-up). Depends on the queue, the
/// database, the image store and the notifier only, no web or request state (see Generation/README.md).
/// </summary>
public sealed class GenerationWorker(
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

    private async Task RunAsync(DeviceEngine engine, GenerationQueue.RunningBatch run, Dictionary<Guid, bool> succeeded, Action lastStep, CancellationToken stoppingToken)
    {
        await using var db = await dbFactory.CreateDbContextAsync(stoppingToken);
        var clock = Stopwatch.StartNew();
        var items = new List<Item>();
        var claimed = await ClaimAsync(db, run.Jobs.Select(j => j.JobId).ToList(), stoppingToken);
        foreach (var running in run.Jobs)
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
                await FinishFailedAsync(db, engine, running, job.Id, ex, clock.Elapsed * running.Share);
            }
        }
        // The queue groups by the key of the stored settings; the loaded requests decide (a mismatch runs separately).
        foreach (var group in items.GroupBy(i => engine.Batches.KeyOf(i.Request)))
        {
            var batch = group.ToList();
            IReadOnlyList<BatchItemOutcome> outcomes;
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
            // Off the GPU's path: the next run (another slot) is already at the engine while these are saved.
            for (var k = 0; k < batch.Count; k++)
            {
                var (item, outcome) = (batch[k], outcomes[k]);
                succeeded[item.Job.Id] = await FinishAsync(db, engine, item, outcome, clock.Elapsed * item.Running.Share, batch.Sum(i => i.Request.BatchSize), stoppingToken);
            }
        }
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

    /// <summary>One job's outcome of a shared run: stored images, or cancelled / failed with its refund. True when it succeeded.</summary>
    private async Task<bool> FinishAsync(ApplicationDbContext db, DeviceEngine engine, Item item, BatchItemOutcome outcome, TimeSpan elapsed, int runImages,
        CancellationToken stoppingToken)
    {
        var (running, job) = (item.Running, item.Job);
        if (outcome.Cancelled && !running.Cancellation.IsCancellationRequested)
            throw outcome.Error!; // the whole run stopped (shutting down): the row stays Running
        if (running.Cancellation.IsCancellationRequested)
        {
            await FinishAsync(db, engine, job.Id, JobState.Cancelled, null, elapsed);
            logger.LogInformation("Job {JobId} cancelled while running", job.Id);
            notifier.Publish(new JobUpdate { JobId = job.Id, State = JobState.Cancelled });
            return false;
        }
        if (outcome.Result is not { } result)
        {
            await FinishFailedAsync(db, engine, running, job.Id, outcome.Error ?? new InvalidOperationException("no result"), elapsed);
            return false;
        }
        try
        {
            var shared = result.SharedBatchSize > 0 ? result.SharedBatchSize : runImages;
            var imageIds = await SaveResultAsync(db, job, result, shared, elapsed, stoppingToken);
            logger.LogInformation("Job {JobId} shared a UNet call with {N} images", job.Id, shared);
            logger.LogInformation("Job {JobId} succeeded with {Count} images in {Seconds:F2}s", job.Id, imageIds.Count, elapsed.TotalSeconds);
            notifier.Publish(new JobUpdate
            {
                JobId = job.Id, State = JobState.Succeeded, Step = job.Settings.Steps, TotalSteps = job.Settings.Steps, ImageIds = imageIds, BatchSize = shared,
            });
            return true;
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            await FinishFailedAsync(db, engine, running, job.Id, ex, elapsed);
            return false;
        }
    }

    private async Task FinishFailedAsync(ApplicationDbContext db, DeviceEngine engine, GenerationQueue.RunningJob running, Guid jobId, Exception ex, TimeSpan elapsed)
    {
        if (ex is OperationCanceledException && running.Cancellation.IsCancellationRequested)
        {
            await FinishAsync(db, engine, jobId, JobState.Cancelled, null, elapsed);
            notifier.Publish(new JobUpdate { JobId = jobId, State = JobState.Cancelled });
            return;
        }
        var message = ex is InvalidGenerationRequestException ? ex.Message : $"The model failed: {ex.Message}";
        logger.LogWarning(ex, "Job {JobId} failed", jobId);
        await FinishAsync(db, engine, jobId, JobState.Failed, message, elapsed);
        notifier.Publish(new JobUpdate { JobId = jobId, State = JobState.Failed, Error = message });
    }

    /// <summary>Failed or cancelled: the state and the ledger's refund in one transaction.</summary>
    private async Task FinishAsync(ApplicationDbContext db, DeviceEngine engine, Guid jobId, JobState state, string? error, TimeSpan elapsed)
    {
        var finished = time.GetUtcNow();
        await using var transaction = await db.BeginWriteAsync(CancellationToken.None);
        var changed = await db.GenerationJobs.Where(j => j.Id == jobId && j.State == JobState.Running)
            .ExecuteUpdateAsync(s => s.SetProperty(j => j.State, state).SetProperty(j => j.FinishedAt, finished)
                .SetProperty(j => j.Error, error is null ? null : error.Length > 2000 ? error[..2000] : error), CancellationToken.None);
        if (changed > 0)
        {
            await UsageLedger.SettleAsync(db, jobId, 0, elapsed.TotalSeconds, engine.Generator.ExecutionProvider, finished, CancellationToken.None);
            await db.SaveChangesAsync(CancellationToken.None);
        }
        await transaction.CommitAsync(CancellationToken.None);
    }

    private async Task<IReadOnlyList<Guid>> SaveResultAsync(ApplicationDbContext db, GenerationJob job, GenerationResult result, int sharedBatchSize, TimeSpan elapsed, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        var saved = new List<GeneratedImage>();
        try
        {
            foreach (var output in result.Images)
            {
                var id = Guid.CreateVersion7();
                var stored = await store.SaveAsync(id, output.Png, cancellationToken);
                saved.Add(new GeneratedImage
                {
                    Id = id,
                    OwnerId = job.OwnerId,
                    JobId = job.Id,
                    Settings = job.Settings.Clone(),
                    Seed = output.Seed,
                    Width = output.Width,
                    Height = output.Height,
                    ModelName = result.ModelName,
                    ModelHash = result.ModelHash,
                    ExecutionProvider = result.ExecutionProvider,
                    ParametersText = output.ParametersText,
                    FileHash = stored.FileHash,
                    FileSize = stored.FileSize,
                    ParentImageId = job.ParentImageId,
                    CreatedAt = now,
                });
            }
            // New images take their owner's default visibility (Sharing), with a share link unless Private.
            var visibility = await db.Users.Where(u => u.Id == job.OwnerId).Select(u => u.DefaultVisibility).SingleOrDefaultAsync(cancellationToken);
            foreach (var image in saved) Sharing.SharingService.SetVisibility(image, visibility);
            // One transaction: image rows, the ledger's charge, the job's final state. Only a job still Running is
            // finished, so its images can never be stored twice.
            await using var transaction = await db.BeginWriteAsync(cancellationToken);
            var tracked = await db.GenerationJobs.SingleAsync(j => j.Id == job.Id, cancellationToken);
            if (tracked.State != JobState.Running)
                throw new InvalidOperationException($"Job {job.Id} is {tracked.State}, not Running; its results are discarded.");
            db.GeneratedImages.AddRange(saved);
            await UsageLedger.SettleAsync(db, job.Id, saved.Count, elapsed.TotalSeconds, result.ExecutionProvider, now, cancellationToken);
            tracked.State = JobState.Succeeded;
            tracked.FinishedAt = now;
            tracked.BatchSize = sharedBatchSize;
            await db.SaveChangesAsync(cancellationToken);
            await transaction.CommitAsync(cancellationToken);
            return saved.Select(i => i.Id).ToList();
        }
        catch
        {
            db.ChangeTracker.Clear();
            foreach (var image in saved) store.Delete(image.Id);
            throw;
        }
    }
}
