using DiffusionGallery.Web.Data.Entities;
using DiffusionGallery.Web.Generation;

namespace DiffusionGallery.Web.A1111;

/// <summary>The A1111 API's one way to create and cancel jobs.</summary>
public sealed class A1111Submitter(GenerationQueue queue)
{
    public bool SupportsInitImages => false;

    public Task<GenerationJob> SubmitAsync(string userId, GenerationSettings settings, A1111InitImage? initImage, string? client, CancellationToken cancellationToken) =>
        queue.EnqueueAsync(userId, settings, null, cancellationToken);

    public Task<bool> CancelAsync(string userId, Guid jobId, CancellationToken cancellationToken = default) =>
        queue.CancelAsync(jobId, userId, cancellationToken);

    /// <summary>The job running now when it is the caller's (a job from the app or the REST API).</summary>
    public Guid? RunningJobOf(string userId) => queue.Running is { } running && running.OwnerId == userId ? running.JobId : null;
}
