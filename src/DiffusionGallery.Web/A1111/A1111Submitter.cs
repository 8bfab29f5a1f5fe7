using DiffusionGallery.Web.Data.Entities;
using DiffusionGallery.Web.Errors;
using DiffusionGallery.Web.Generation;
using DiffusionGallery.Web.Uploads;

namespace DiffusionGallery.Web.A1111;

/// <summary>The A1111 API's way to create and cancel jobs: the shared <see cref="SubmissionService"/> (the caller is the request's user).</summary>
/// <remarks>An img2img init image is first stored as the caller's upload, through the same hardened path as
/// <c>POST /api/uploads</c>; the jobs then name that upload as their reference, like the Lab's img2img.</remarks>
public sealed class A1111Submitter(SubmissionService submissions, GenerationQueue queue, UploadService uploads)
{
    public const string Origin = "a1111";

    /// <summary>Stores an init image as one of <paramref name="userId"/>'s uploads (checked, decoded, re-encoded without metadata).</summary>
    /// <exception cref="UploadRejectedException">Not an image we accept, or over the size limits; the message says why.</exception>
    public async Task<ImageSourceRef> StoreInitImageAsync(string userId, A1111InitImage initImage, CancellationToken cancellationToken)
    {
        using var content = new MemoryStream(initImage.Bytes, writable: false);
        var upload = await uploads.CreateAsync(userId, content, initImage.Bytes.LongLength, cancellationToken);
        return ImageSourceRef.Upload(upload.Id);
    }

    /// <param name="reference">img2img: the upload from <see cref="StoreInitImageAsync"/>, with <paramref name="initImage"/>'s strength and fit.</param>
    public Task<GenerationJob> SubmitAsync(GenerationSettings settings, A1111InitImage? initImage, ImageSourceRef? reference, string? client, CancellationToken cancellationToken) =>
        submissions.SubmitAsync(new SubmitCommand(settings)
        {
            Origin = Origin,
            Client = client,
            InitImage = initImage is null ? null : reference ?? throw new ArgumentNullException(nameof(reference)),
            Strength = initImage?.Strength,
            Fit = initImage?.Fit ?? default,
        }, cancellationToken);

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
    public Guid? RunningJobOf(string userId) => queue.RunningJobOf(userId);
}
