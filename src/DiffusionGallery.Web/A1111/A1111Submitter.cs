using DiffusionGallery.Web.Data.Entities;
using DiffusionGallery.Web.Errors;
using DiffusionGallery.Web.Generation;

namespace DiffusionGallery.Web.A1111;

/// <summary>The A1111 API's way to create and cancel jobs: the shared <see cref="SubmissionService"/> (the caller is the request's user).</summary>
public sealed class A1111Submitter(SubmissionService submissions, GenerationQueue queue)
{
    public const string Origin = "a1111";

    public bool SupportsInitImages => false;

    public Task<GenerationJob> SubmitAsync(GenerationSettings settings, A1111InitImage? initImage, string? client, CancellationToken cancellationToken) =>
        submissions.SubmitAsync(new SubmitCommand(settings) { Origin = Origin, Client = client }, cancellationToken);

    /// <summary>Cancels one of the caller's jobs; false when it is not theirs or has already finished.</summary>
    public async Task<bool> CancelAsync(Guid jobId, CancellationToken cancellationToken = default)
    {
        try
        {
            await submissions.CancelAsync(jobId, cancellationToken);
            return true;
        }
        catch (NotFoundException)
        {
            return false;
        }
    }

    /// <summary>The job running now when it is the caller's (a job from the app or the REST API).</summary>
    public Guid? RunningJobOf(string userId) => queue.Running is { } running && running.OwnerId == userId ? running.JobId : null;
}
