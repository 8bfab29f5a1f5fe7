using DiffusionGallery.Web.Accounts;
using DiffusionGallery.Web.Data;
using DiffusionGallery.Web.Data.Entities;
using DiffusionGallery.Web.Errors;
using DiffusionGallery.Web.Gallery;
using DiffusionGallery.Web.Generation;
using Microsoft.EntityFrameworkCore;

namespace DiffusionGallery.Web.Lab;

/// <summary>One cell of a Lab grid: a key for the UI and the settings of its job (with a reference image for img2img).</summary>
public sealed record LabCell(string Key, GenerationSettings Settings)
{
    public Uploads.ImageSourceRef? InitImage { get; init; }
    public float? Strength { get; init; }
}

/// <summary>A finished cell: its image (when it succeeded), how long the job ran in the worker, or why it failed.</summary>
public sealed record LabCellResult(string Key, JobState State, Guid? ImageId, TimeSpan? Elapsed, string? Error);

/// <summary>
/// Runs the Lab's grids as ordinary jobs of the current user, through <see cref="SubmissionService"/> with origin "lab" (so
/// validation, quotas and fair share apply as on the generate page), a few at a time so a grid never holds more than <see cref="Window"/> of the user's queue slots. Results are kept
/// out of the gallery unless the user saves them: unsaved results are deleted when they run the grid again or leave the
/// Lab (this service lives as long as the circuit).
/// </summary>
public sealed class LabJobRunner(
    ICurrentUser currentUser,
    SubmissionService submissions,
    GenerationQueue queue,
    JobNotifier notifier,
    JobQueries jobs,
    GalleryService gallery,
    IDbContextFactory<ApplicationDbContext> dbFactory,
    ILogger<LabJobRunner> logger) : IAsyncDisposable
{
    public const int Window = 2;

    private readonly Lock _gate = new();
    private readonly Dictionary<Guid, string> _unsaved = [];

    /// <summary>Runs every cell, calling <paramref name="onResult"/> as each finishes (in completion order).</summary>
    public async Task RunAsync(IReadOnlyList<LabCell> cells, Func<LabCellResult, Task> onResult, CancellationToken cancellationToken)
    {
        using var slots = new SemaphoreSlim(Window);
        var running = new List<Task>();
        foreach (var cell in cells)
        {
            await slots.WaitAsync(cancellationToken);
            running.Add(Task.Run(async () =>
            {
                try
                {
                    await onResult(await RunOneAsync(cell, null, cancellationToken));
                }
                finally
                {
                    slots.Release();
                }
            }, CancellationToken.None));
        }
        await Task.WhenAll(running);
    }

    /// <summary>Submits one job and waits for it; <paramref name="onProgress"/> sees every update (previews included).</summary>
    public async Task<LabCellResult> RunOneAsync(LabCell cell, Func<JobUpdate, Task>? onProgress, CancellationToken cancellationToken)
    {
        var userId = currentUser.RequireUserId();
        GenerationJob job;
        try
        {
            job = await submissions.SubmitAsync(ToCommand(cell), cancellationToken);
        }
        catch (DomainException ex)
        {
            return new LabCellResult(cell.Key, JobState.Failed, null, null, DomainErrorMapping.ToUserMessage(ex));
        }

        var finished = new TaskCompletionSource<JobUpdate>(TaskCreationOptions.RunContinuationsAsynchronously);
        using (notifier.Subscribe(job.Id, async update =>
               {
                   if (onProgress is not null) await onProgress(update);
                   if (update.IsFinished) finished.TrySetResult(update);
               }))
        await using (cancellationToken.Register(() => _ = CancelQuietlyAsync(job.Id)))
        {
            // It may have finished before the subscription: then its final state is only in the database.
            if (queue.GetPosition(job.Id) is null && !queue.IsRunning(job.Id)
                && await jobs.GetAsync(userId, job.Id, CancellationToken.None) is { IsFinished: true } done)
                finished.TrySetResult(done);
            var final = await finished.Task.WaitAsync(TimeSpan.FromMinutes(10), CancellationToken.None);
            var imageId = final.ImageIds.Count > 0 ? final.ImageIds[0] : (Guid?)null;
            if (imageId is { } id)
            {
                lock (_gate) _unsaved[id] = userId;
            }
            return new LabCellResult(cell.Key, final.State, imageId, await ElapsedAsync(job.Id), final.Error);
        }
    }

    internal static SubmitCommand ToCommand(LabCell cell) => new(cell.Settings) { Origin = JobOrigins.Lab, InitImage = cell.InitImage, Strength = cell.Strength };

    private async Task CancelQuietlyAsync(Guid jobId)
    {
        try
        {
            await submissions.CancelAsync(jobId, CancellationToken.None);
        }
        catch (NotFoundException)
        {
            // it finished meanwhile
        }
    }

    /// <summary>Keeps a result in the gallery.</summary>
    public void Save(Guid imageId)
    {
        lock (_gate) _unsaved.Remove(imageId);
    }

    public bool IsSaved(Guid imageId)
    {
        lock (_gate) return !_unsaved.ContainsKey(imageId);
    }

    /// <summary>Deletes results the user did not save (the given ones, or all).</summary>
    public async Task DiscardUnsavedAsync(IEnumerable<Guid>? only = null)
    {
        List<KeyValuePair<Guid, string>> doomed;
        lock (_gate)
        {
            doomed = _unsaved.Where(p => only is null || only.Contains(p.Key)).ToList();
            foreach (var pair in doomed) _unsaved.Remove(pair.Key);
        }
        foreach (var (imageId, userId) in doomed)
        {
            try
            {
                await gallery.DeleteAsync(userId, imageId);
            }
            catch (Exception ex) when (ex is IOException or DbUpdateException or ObjectDisposedException)
            {
                logger.LogWarning(ex, "Unsaved Lab result {ImageId} could not be deleted", imageId);
            }
        }
    }

    private async Task<TimeSpan?> ElapsedAsync(Guid jobId)
    {
        await using var db = await dbFactory.CreateDbContextAsync();
        var times = await db.GenerationJobs.AsNoTracking().Where(j => j.Id == jobId).Select(j => new { j.StartedAt, j.FinishedAt }).SingleOrDefaultAsync();
        return times is { StartedAt: { } start, FinishedAt: { } end } ? end - start : null;
    }

    public ValueTask DisposeAsync() => new(DiscardUnsavedAsync());
}
