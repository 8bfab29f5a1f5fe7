using DiffusionGallery.Web.Data;
using DiffusionGallery.Web.Data.Entities;
using Microsoft.EntityFrameworkCore;

namespace DiffusionGallery.Web.Generation;

/// <summary>Owner-checked reads of job state, for the REST API and hub.</summary>
public sealed class JobQueries(IDbContextFactory<ApplicationDbContext> dbFactory, GenerationQueue queue)
{
    public async Task<JobUpdate?> GetAsync(string ownerId, Guid jobId, CancellationToken cancellationToken = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var job = await db.GenerationJobs.AsNoTracking()
            .Where(j => j.Id == jobId && j.OwnerId == ownerId)
            .Select(j => new { j.Id, j.State, j.Error, j.BatchSize, j.Settings.Steps, Images = j.Images.OrderBy(i => i.Seed).Select(i => i.Id).ToList() })
            .SingleOrDefaultAsync(cancellationToken);
        if (job is null) return null;
        return new JobUpdate
        {
            JobId = job.Id,
            State = job.State,
            QueuePosition = job.State == JobState.Queued ? queue.GetPosition(job.Id) : null,
            TotalSteps = job.Steps,
            Step = job.State == JobState.Succeeded ? job.Steps : 0,
            ImageIds = job.Images,
            Error = job.Error,
            BatchSize = job.BatchSize,
        };
    }
}
