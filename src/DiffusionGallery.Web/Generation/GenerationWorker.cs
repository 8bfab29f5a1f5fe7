using System.Diagnostics;
using DiffusionGallery.Inference.Abstractions;
using DiffusionGallery.Web.Data;
using DiffusionGallery.Web.Data.Entities;
using DiffusionGallery.Web.Gallery;
using DiffusionGallery.Web.Quotas;
using Microsoft.EntityFrameworkCore;

namespace DiffusionGallery.Web.Generation;

/// <summary>
/// The one consumer of the queue: owns the pipeline, runs one job at a time, stores results crash-consistently (files
/// first, then rows, ledger and job state in one transaction; a crash in between leaves only files, swept at start-up).
/// </summary>
public sealed class GenerationWorker(
    GenerationQueue queue,
    GenerationRequestFactory requestFactory,
    Uploads.ReferenceImages references,
    IImageGenerator generator,
    IDbContextFactory<ApplicationDbContext> dbFactory,
    ImageStore store,
    JobNotifier notifier,
    TimeProvider time,
    ILogger<GenerationWorker> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            GenerationQueue.RunningJob running;
            try
            {
                running = await queue.DequeueAsync(stoppingToken);
            }
            catch (OperationCanceledException)
            {
                return;
            }

            var succeeded = false;
            try
            {
                succeeded = await RunJobAsync(running, stoppingToken);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return; // shutting down: the row stays Running and is requeued (once) at next start-up
            }
            catch (Exception ex)
            {
                logger.LogError(ex, "Job {JobId} could not be finished", running.JobId);
            }
            finally
            {
                queue.Complete(running, succeeded); // charges the owner's fair share; a success teaches the cost estimator
            }
        }
    }

    private async Task<bool> RunJobAsync(GenerationQueue.RunningJob running, CancellationToken stoppingToken)
    {
        await using var db = await dbFactory.CreateDbContextAsync(stoppingToken);
        var started = time.GetUtcNow();
        var claimed = await db.GenerationJobs.Where(j => j.Id == running.JobId && j.State == JobState.Queued)
            .ExecuteUpdateAsync(s => s.SetProperty(j => j.State, JobState.Running).SetProperty(j => j.StartedAt, started)
                .SetProperty(j => j.Attempts, j => j.Attempts + 1), stoppingToken);
        if (claimed == 0) return false; // cancelled (or finished) before it reached the worker

        var job = await db.GenerationJobs.AsNoTracking().SingleAsync(j => j.Id == running.JobId, stoppingToken);
        notifier.Publish(new JobUpdate { JobId = job.Id, State = JobState.Running, TotalSteps = job.Settings.Steps });

        using var linked = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken, running.Cancellation.Token);
        var clock = Stopwatch.StartNew();
        try
        {
            var request = await references.LoadAsync(job.OwnerId, job.Settings, requestFactory.ToEngineRequest(job.Settings), linked.Token);
            var progress = new JobProgressReporter(job.Id, notifier);
            var result = await Task.Run(() => generator.GenerateAsync(request, progress, linked.Token), linked.Token);
            linked.Token.ThrowIfCancellationRequested();
            var imageIds = await SaveResultAsync(db, job, result, clock.Elapsed, stoppingToken);
            logger.LogInformation("Job {JobId} succeeded with {Count} images in {Seconds:F2}s", job.Id, imageIds.Count, clock.Elapsed.TotalSeconds);
            notifier.Publish(new JobUpdate { JobId = job.Id, State = JobState.Succeeded, Step = job.Settings.Steps, TotalSteps = job.Settings.Steps, ImageIds = imageIds });
            return true;
        }
        catch (OperationCanceledException) when (running.Cancellation.IsCancellationRequested && !stoppingToken.IsCancellationRequested)
        {
            await FinishAsync(db, job.Id, JobState.Cancelled, null, clock.Elapsed);
            logger.LogInformation("Job {JobId} cancelled while running", job.Id);
            notifier.Publish(new JobUpdate { JobId = job.Id, State = JobState.Cancelled });
            return false;
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            var message = ex is InvalidGenerationRequestException ? ex.Message : $"The model failed: {ex.Message}";
            logger.LogWarning(ex, "Job {JobId} failed", job.Id);
            await FinishAsync(db, job.Id, JobState.Failed, message, clock.Elapsed);
            notifier.Publish(new JobUpdate { JobId = job.Id, State = JobState.Failed, Error = message });
            return false;
        }
    }

    /// <summary>Failed or cancelled: the state and the ledger's refund in one transaction.</summary>
    private async Task FinishAsync(ApplicationDbContext db, Guid jobId, JobState state, string? error, TimeSpan elapsed)
    {
        var finished = time.GetUtcNow();
        await using var transaction = await db.BeginWriteAsync(CancellationToken.None);
        var changed = await db.GenerationJobs.Where(j => j.Id == jobId && j.State == JobState.Running)
            .ExecuteUpdateAsync(s => s.SetProperty(j => j.State, state).SetProperty(j => j.FinishedAt, finished)
                .SetProperty(j => j.Error, error is null ? null : error.Length > 2000 ? error[..2000] : error), CancellationToken.None);
        if (changed > 0)
        {
            await UsageLedger.SettleAsync(db, jobId, 0, elapsed.TotalSeconds, generator.ExecutionProvider, finished, CancellationToken.None);
            await db.SaveChangesAsync(CancellationToken.None);
        }
        await transaction.CommitAsync(CancellationToken.None);
    }

    private async Task<IReadOnlyList<Guid>> SaveResultAsync(ApplicationDbContext db, GenerationJob job, GenerationResult result, TimeSpan elapsed, CancellationToken cancellationToken)
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

/// <summary>Turns engine progress into <see cref="JobUpdate"/>s; the preview is encoded once here.</summary>
internal sealed class JobProgressReporter(Guid jobId, JobNotifier notifier) : IProgress<GenerationProgress>
{
    public void Report(GenerationProgress value)
    {
        var seconds = value.Elapsed.TotalSeconds;
        notifier.Publish(new JobUpdate
        {
            JobId = jobId,
            State = JobState.Running,
            Step = Math.Max(1, value.Step),
            TotalSteps = value.TotalSteps,
            IterationsPerSecond = seconds > 0 ? value.Step / seconds : null,
            EtaSeconds = value.EstimatedRemaining?.TotalSeconds,
            PreviewPng = PreviewEncoder.Encode(value.Previews is { Count: > 0 } previews ? previews[0] : null),
        });
    }
}
