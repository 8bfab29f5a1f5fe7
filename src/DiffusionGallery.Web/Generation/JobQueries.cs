using DiffusionGallery.Web.Data;
using DiffusionGallery.Web.Data.Entities;
using Microsoft.EntityFrameworkCore;

namespace DiffusionGallery.Web.Generation;

/// <summary>Owner-checked reads of job state, for the REST API and hub.</summary>
public sealed class JobQueries(IDbContextFactory<ApplicationDbContext> dbFactory, GenerationQueue queue, JobNotifier notifier, IHostApplicationLifetime lifetime)
{
    /// <summary>The longest a caller may wait in <see cref="WaitAsync"/> (REST's <c>?wait=</c>).</summary>
    public static readonly TimeSpan MaxWait = TimeSpan.FromSeconds(30);

    /// <summary>
    /// A long poll: the job as stored once it has finished, or as it stands after <paramref name="wait"/> (null when it is
    /// not the owner's). Woken by <see cref="JobNotifier"/>'s finishing update, so it reads the database at most twice.
    /// The app shutting down ends the wait at once (the job as it stands), so long polls never hold the shutdown up.
    /// </summary>
    public async Task<JobUpdate?> WaitAsync(string ownerId, Guid jobId, TimeSpan wait, CancellationToken cancellationToken = default)
    {
        if (wait < TimeSpan.Zero || wait > MaxWait) throw new ArgumentOutOfRangeException(nameof(wait), wait, $"At most {MaxWait.TotalSeconds} seconds.");
        if (wait == TimeSpan.Zero) return await GetAsync(ownerId, jobId, cancellationToken);
        var stopping = lifetime.ApplicationStopping;
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, stopping);
        var finished = notifier.WaitForFinishAsync(jobId, stop.Token); // before the read: a finish after it is not missed
        try
        {
            var job = await GetAsync(ownerId, jobId, cancellationToken);
            if (job is null || job.IsFinished) return job;
            try
            {
                await finished.WaitAsync(wait, cancellationToken);
            }
            catch (TimeoutException)
            {
                // as it stands now (e.g. Running)
            }
            catch (OperationCanceledException) when (stopping.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
            {
                // shutting down: as it stands now
            }
            return await GetAsync(ownerId, jobId, cancellationToken);
        }
        finally
        {
            await stop.CancelAsync();
            try { await finished; } catch (OperationCanceledException) { } // unregistered
        }
    }

    public async Task<JobUpdate?> GetAsync(string ownerId, Guid jobId, CancellationToken cancellationToken = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var job = await db.GenerationJobs.AsNoTracking()
            .Where(j => j.Id == jobId && j.OwnerId == ownerId)
            .Select(j => new { j.Id, j.State, j.Error, j.BatchSize, j.CreatedAt, j.StartedAt, j.FinishedAt, j.Settings.Steps, Images = j.Images.OrderBy(i => i.Seed).Select(i => i.Id).ToList() })
            .SingleOrDefaultAsync(cancellationToken);
        if (job is null) return null;
        var position = job.State == JobState.Queued ? queue.GetPosition(job.Id) : null;
        // Taken by a worker a moment before its row says so: running, not "queued at no position".
        var state = job.State == JobState.Queued && position is null && queue.IsRunning(job.Id) ? JobState.Running : job.State;
        return new JobUpdate
        {
            JobId = job.Id,
            State = state,
            QueuePosition = position,
            TotalSteps = job.Steps,
            Step = job.State == JobState.Succeeded ? job.Steps : 0,
            ImageIds = job.Images,
            Error = job.Error,
            BatchSize = job.BatchSize,
            CreatedAt = job.CreatedAt,
            StartedAt = job.StartedAt,
            FinishedAt = job.FinishedAt,
        };
    }
}
