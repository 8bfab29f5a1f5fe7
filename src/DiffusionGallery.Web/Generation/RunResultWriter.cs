using System.Collections.Concurrent;
using DiffusionGallery.Web.Data;
using DiffusionGallery.Web.Data.Entities;
using DiffusionGallery.Web.Gallery;
using DiffusionGallery.Web.Quotas;
using Microsoft.EntityFrameworkCore;

namespace DiffusionGallery.Web.Generation;

/// <summary>
/// Stores the endings of a run's jobs together, off the GPU's path: every succeeded job's PNG and thumbnail files in
/// parallel (<see cref="MaxParallelSaves"/>), then ONE write transaction for all of them (image rows with the owners' default
/// visibility, read once; ledger settlements; job states, times and batch size), then one notification per job.
/// Crash-consistent as one job at a time was: files first, rows after (a crash in between leaves only files, swept at
/// start-up). A job whose files cannot be stored fails alone (refunded); a job no longer Running when the transaction
/// reads it is discarded alone (its files deleted); if the shared transaction fails, each job is tried on its own.
/// Deleting files is best-effort throughout (a file left behind is swept at start-up), so it never keeps the other jobs of
/// the run from being committed.
/// </summary>
public sealed class RunResultWriter(ImageStore store, JobNotifier notifier, TimeProvider time, ILogger logger)
{
    /// <summary>
    /// Files stored at once by one writer (each is a PNG write, a decode, a resize and a WebP encode, on one thread: see
    /// <see cref="ImageStore"/>): one per processor but one, to leave some room for the engine's thread driving the next run
    /// on the GPU meanwhile. Not a hard limit on the process: several writers (runs in flight, devices) may save at once.
    /// </summary>
    public static int MaxParallelSaves { get; } = Math.Max(1, Environment.ProcessorCount - 1);

    /// <summary>Stores, commits and announces the endings; the ids of the jobs that succeeded.</summary>
    /// <param name="committed">Told of each committed ending before it is announced (the worker ends the job in the
    /// queue then, so that an owner who asks again as soon as the result arrives finds it ended).</param>
    /// <param name="cancellationToken">
    /// Stops storing files (shutting down): then the successes' files are deleted and their rows stay Running (requeued at
    /// start-up), while the endings that have no files (cancelled, failed) are still committed, so that a job its owner
    /// cancelled does not run again; then the cancellation is thrown.
    /// </param>
    public async Task<IReadOnlySet<Guid>> FinishAsync(ApplicationDbContext db, IReadOnlyList<JobEnding> endings, CancellationToken cancellationToken,
        Action<JobEnding>? committed = null)
    {
        ArgumentNullException.ThrowIfNull(db);
        ArgumentNullException.ThrowIfNull(endings);
        if (endings.Count == 0) return new HashSet<Guid>();
        try
        {
            await StoreFilesAsync(endings, cancellationToken);
            await SetVisibilityAsync(db, endings, cancellationToken);
        }
        catch (Exception ex)
        {
            // No success can be committed without its files and visibility: none is (its row stays Running), its files go.
            foreach (var ending in endings) DeleteFiles(ending);
            var withoutFiles = endings.Where(e => e.State != JobState.Succeeded).ToList();
            if (withoutFiles.Count > 0)
            {
                if (ex is not OperationCanceledException) logger.LogError(ex, "A run's results could not be stored; its cancelled and failed jobs are recorded");
                foreach (var ending in await CommitAsync(db, withoutFiles)) Announce(ending, committed);
            }
            throw;
        }
        var done = await CommitAsync(db, endings);
        foreach (var ending in done) Announce(ending, committed);
        return done.Where(e => e.State == JobState.Succeeded).Select(e => e.Job.Id).ToHashSet();
    }

    private async Task StoreFilesAsync(IReadOnlyList<JobEnding> endings, CancellationToken cancellationToken)
    {
        var work = endings.Where(e => e.State == JobState.Succeeded)
            .SelectMany(e => e.Result!.Images.Select(output => (Ending: e, Output: output, Id: Guid.CreateVersion7()))).ToList();
        if (work.Count == 0) return;
        var stored = new ConcurrentDictionary<Guid, StoredImage>();
        var failures = new ConcurrentDictionary<JobEnding, Exception>();
        try
        {
            await Parallel.ForEachAsync(work, new ParallelOptions { MaxDegreeOfParallelism = MaxParallelSaves, CancellationToken = cancellationToken },
                async (w, token) =>
                {
                    if (failures.ContainsKey(w.Ending)) return; // its job has failed already
                    try
                    {
                        stored[w.Id] = await store.SaveAsync(w.Id, w.Output.Png, token);
                    }
                    catch (Exception ex) when (ex is not OperationCanceledException || !token.IsCancellationRequested)
                    {
                        failures.TryAdd(w.Ending, ex);
                    }
                });
        }
        catch (OperationCanceledException)
        {
            foreach (var id in stored.Keys) DeleteFile(id);
            throw;
        }
        foreach (var (ending, output, id) in work)
        {
            if (failures.TryGetValue(ending, out var error))
            {
                if (stored.ContainsKey(id)) DeleteFile(id);
                continue;
            }
            var job = ending.Job;
            var file = stored[id];
            ending.Images.Add(new GeneratedImage
            {
                Id = id,
                OwnerId = job.OwnerId,
                JobId = job.Id,
                Settings = job.Settings.Clone(),
                Seed = output.Seed,
                Width = output.Width,
                Height = output.Height,
                ModelName = ending.Result!.ModelName,
                ModelHash = ending.Result.ModelHash,
                ExecutionProvider = ending.Result.ExecutionProvider,
                ParametersText = output.ParametersText,
                FileHash = file.FileHash,
                FileSize = file.FileSize,
                ParentImageId = job.ParentImageId,
            });
        }
        foreach (var (ending, error) in failures)
        {
            logger.LogWarning(error, "Job {JobId}: its images could not be stored", ending.Job.Id);
            ending.Fail($"Storing the images failed: {error.Message}", error);
        }
    }

    /// <summary>New images take their owner's default visibility (Sharing), with a share link unless Private: one query for all owners.</summary>
    private static async Task SetVisibilityAsync(ApplicationDbContext db, IReadOnlyList<JobEnding> endings, CancellationToken cancellationToken)
    {
        var owners = endings.Where(e => e.Images.Count > 0).Select(e => e.Job.OwnerId).Distinct().ToList();
        if (owners.Count == 0) return;
        var visibility = await db.Users.AsNoTracking().Where(u => owners.Contains(u.Id))
            .Select(u => new { u.Id, u.DefaultVisibility }).ToDictionaryAsync(u => u.Id, u => u.DefaultVisibility, cancellationToken);
        foreach (var ending in endings)
        foreach (var image in ending.Images)
            Sharing.SharingService.SetVisibility(image, visibility.GetValueOrDefault(ending.Job.OwnerId));
    }

    /// <summary>
    /// One transaction for all endings; only a job still Running is finished (so its images can never be stored twice).
    /// Returns the endings committed. When the shared transaction fails, each ending is tried alone, and a success that
    /// cannot be committed is recorded as a failure (its files deleted).
    /// </summary>
    private async Task<List<JobEnding>> CommitAsync(ApplicationDbContext db, IReadOnlyList<JobEnding> endings)
    {
        try
        {
            return await CommitTogetherAsync(db, endings);
        }
        catch (Exception ex)
        {
            db.ChangeTracker.Clear();
            if (endings.Count > 1)
            {
                logger.LogWarning(ex, "The run's results could not be committed together; committing each job on its own");
                var committed = new List<JobEnding>();
                foreach (var ending in endings) committed.AddRange(await CommitAsync(db, [ending]));
                return committed;
            }
            var single = endings[0];
            if (single.State == JobState.Succeeded)
            {
                DeleteFiles(single);
                single.Fail($"Saving the results failed: {ex.Message}", ex);
                return await CommitAsync(db, [single]);
            }
            logger.LogError(ex, "Job {JobId} could not be finished; it stays Running until the next start-up", single.Job.Id);
            return [];
        }
    }

    private async Task<List<JobEnding>> CommitTogetherAsync(ApplicationDbContext db, IReadOnlyList<JobEnding> endings)
    {
        var now = time.GetUtcNow();
        var ids = endings.Select(e => e.Job.Id).ToList();
        var committed = new List<JobEnding>();
        var discarded = new List<JobEnding>();
        await using (var transaction = await db.BeginWriteAsync(CancellationToken.None))
        {
            var rows = await db.GenerationJobs.Where(j => ids.Contains(j.Id)).ToDictionaryAsync(j => j.Id, CancellationToken.None);
            var settlements = new List<Settlement>();
            foreach (var ending in endings)
            {
                if (!rows.TryGetValue(ending.Job.Id, out var row) || row.State != JobState.Running)
                {
                    logger.LogWarning("Job {JobId} is {State}, not Running; its results are discarded", ending.Job.Id, row?.State.ToString() ?? "gone");
                    discarded.Add(ending); // its files go once this transaction has committed
                    // Whoever finished it should have closed its account; if not, its reservation comes back (a no-op when
                    // settled already). A row queued again (requeued) keeps its reservation for the run it waits for.
                    if (row is { State: JobState.Succeeded or JobState.Failed or JobState.Cancelled })
                        settlements.Add(new Settlement(row.Id, 0, 0, ""));
                    continue;
                }
                row.State = ending.State;
                row.FinishedAt = now;
                if (ending.StartedAt is { } started) row.StartedAt = started;
                ending.Times = (row.StartedAt, now);
                if (ending.State == JobState.Succeeded)
                {
                    foreach (var image in ending.Images)
                    {
                        image.CreatedAt = now;
                        // A failed earlier try (the shared transaction) fixed these up to its own, no longer tracked, row
                        // instance: left set, adding the image would track that instance beside this one and throw.
                        (image.Job, image.Owner) = (null, null);
                    }
                    db.GeneratedImages.AddRange(ending.Images);
                    row.BatchSize = ending.SharedBatchSize;
                    settlements.Add(new Settlement(row.Id, ending.Images.Count, ending.GpuTime.TotalSeconds, ending.ExecutionProvider));
                }
                else
                {
                    row.Error = ending.Error is { Length: > 2000 } text ? text[..2000] : ending.Error;
                    settlements.Add(new Settlement(row.Id, 0, ending.GpuTime.TotalSeconds, ending.ExecutionProvider));
                }
                committed.Add(ending);
            }
            await UsageLedger.SettleAsync(db, settlements, now, CancellationToken.None);
            await db.SaveChangesAsync(CancellationToken.None);
            await transaction.CommitAsync(CancellationToken.None);
        }
        db.ChangeTracker.Clear();
        foreach (var ending in discarded) DeleteFiles(ending);
        return committed;
    }

    private void DeleteFiles(JobEnding ending)
    {
        foreach (var image in ending.Images) DeleteFile(image.Id);
    }

    /// <summary>Best-effort: a file that cannot be deleted now is logged and left to the start-up sweep.</summary>
    private void DeleteFile(Guid imageId)
    {
        try
        {
            store.Delete(imageId);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            logger.LogWarning(ex, "Image {ImageId}'s files could not be deleted; the start-up sweep removes them", imageId);
        }
    }

    private void Announce(JobEnding ending, Action<JobEnding>? committed)
    {
        committed?.Invoke(ending);
        var job = ending.Job;
        switch (ending.State)
        {
            case JobState.Succeeded:
                logger.LogInformation("Job {JobId} shared a UNet call with {N} images", job.Id, ending.SharedBatchSize);
                logger.LogInformation("Job {JobId} succeeded with {Count} images in {Seconds:F2}s", job.Id, ending.Images.Count, ending.GpuTime.TotalSeconds);
                notifier.Publish(new JobUpdate
                {
                    JobId = job.Id, State = JobState.Succeeded, Step = job.Settings.Steps, TotalSteps = job.Settings.Steps,
                    ImageIds = ending.Images.Select(i => i.Id).ToList(), BatchSize = ending.SharedBatchSize,
                    StartedAt = ending.Times.Started, FinishedAt = ending.Times.Finished,
                });
                break;
            case JobState.Cancelled:
                logger.LogInformation("Job {JobId} cancelled while running", job.Id);
                notifier.Publish(new JobUpdate { JobId = job.Id, State = JobState.Cancelled, StartedAt = ending.Times.Started, FinishedAt = ending.Times.Finished });
                break;
            default:
                logger.LogWarning(ending.Exception, "Job {JobId} failed", job.Id);
                notifier.Publish(new JobUpdate
                {
                    JobId = job.Id, State = JobState.Failed, Error = ending.Error, StartedAt = ending.Times.Started, FinishedAt = ending.Times.Finished,
                });
                break;
        }
    }
}
