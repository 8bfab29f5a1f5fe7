using DiffusionGallery.Web.Accounts;
using DiffusionGallery.Web.Data;
using DiffusionGallery.Web.Data.Configurations;
using DiffusionGallery.Web.Data.Entities;
using DiffusionGallery.Web.Errors;
using DiffusionGallery.Web.Quotas;
using DiffusionGallery.Web.Sharing;
using Microsoft.EntityFrameworkCore;

namespace DiffusionGallery.Web.Generation;

/// <summary>What to generate, and where the request came from.</summary>
public sealed record SubmitCommand(GenerationSettings Settings)
{
    /// <summary>Remix / variation / gallery reference image: the lineage parent (kept only when the user may see it).</summary>
    public Guid? ParentImageId { get; init; }

    /// <summary>"web" | "api" | "hub" | "a1111" | "lab" | …</summary>
    public string Origin { get; init; } = JobOrigins.Web;

    /// <summary>Free text shown in the gallery, e.g. an API client's User-Agent (control characters dropped, cut to 200).</summary>
    public string? Client { get; init; }

    /// <summary>img2img reference: an upload or an image the user may see (a gallery image becomes the lineage parent).</summary>
    public Uploads.ImageSourceRef? InitImage { get; init; }

    /// <summary>img2img denoising strength, 0 (reconstruct) … 1 (create); required with <see cref="InitImage"/>.</summary>
    public float? Strength { get; init; }

    /// <summary>How the reference is brought to the generation size.</summary>
    public Uploads.ReferenceImageFit Fit { get; init; }
}

/// <summary>Known <see cref="SubmitCommand.Origin"/> values.</summary>
public static class JobOrigins
{
    public const string Web = "web", Api = "api", Hub = "hub", Lab = "lab";
}

/// <summary>
/// THE way to create or cancel jobs (generate page, REST, hub; later remix, Lab, A1111, admin tools). Who is asking comes
/// from <see cref="ICurrentUser"/>; the settings are validated once (<see cref="GenerationRequestFactory.Validate"/>);
/// quota check and debit are one atomic step with storing the job (<see cref="QuotaService"/>); then the job is queued.
/// Throws <see cref="DomainException"/>s, which each surface maps in one place.
/// </summary>
public sealed class SubmissionService(
    ICurrentUser currentUser,
    GenerationRequestFactory requests,
    QuotaService quotas,
    GenerationQueue queue,
    JobNotifier notifier,
    IDbContextFactory<ApplicationDbContext> dbFactory,
    Uploads.ReferenceImages references,
    TimeProvider time,
    ImageAccess access,
    ILogger<SubmissionService> logger)
{
    public async Task<GenerationJob> SubmitAsync(SubmitCommand command, CancellationToken ct = default) =>
        (await SubmitWithPositionAsync(command, ct)).Job;

    /// <summary>As <see cref="SubmitAsync"/>, with the job's place in the queue when it was queued (1 = next to run).</summary>
    public async Task<SubmittedJob> SubmitWithPositionAsync(SubmitCommand command, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(command);
        ArgumentNullException.ThrowIfNull(command.Settings);
        var userId = currentUser.RequireUserId();
        var settings = requests.Validate(await references.AttachAsync(userId, command, ct));
        // a remix names its parent; a gallery image used as the reference becomes the parent too
        var parentImageId = await RemixableParentAsync(command.ParentImageId ?? settings.InitImageId, ct);

        var job = new GenerationJob
        {
            Id = Guid.CreateVersion7(),
            OwnerId = userId,
            State = JobState.Queued,
            Settings = settings,
            CreatedAt = time.GetUtcNow(),
            ParentImageId = parentImageId,
            Origin = Clean(command.Origin, GenerationJobLimits.OriginLength) ?? JobOrigins.Web,
            Client = Clean(command.Client, GenerationJobLimits.ClientLength),
        };
        var reservation = await quotas.ReserveAndStoreAsync(job, ct);
        var position = queue.Enqueue(job.Id, userId, reservation.Units, reservation.Weight, settings);
        logger.LogInformation("Job {JobId} queued for user {UserId} from {Origin} at position {Position}", job.Id, userId, job.Origin, position);
        return new SubmittedJob(job, position);
    }

    /// <summary>Cancels one of the caller's queued or running jobs; <see cref="NotFoundException"/> when there is no such job (or it has finished).</summary>
    public async Task CancelAsync(Guid jobId, CancellationToken ct = default)
    {
        var userId = currentUser.RequireUserId();
        switch (queue.TryCancel(jobId, userId))
        {
            case QueueCancelResult.RunningSignalled:
                logger.LogInformation("Job {JobId} asked to stop by its owner", jobId);
                return; // the worker records the cancellation and the refund
            case QueueCancelResult.RemovedFromQueue:
                await RecordCancelledAsync(jobId, userId, ct);
                return;
            default:
                throw new NotFoundException("No queued or running job of yours has this id (it may have finished already).");
        }
    }

    private async Task RecordCancelledAsync(Guid jobId, string userId, CancellationToken ct)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        await using (var transaction = await db.BeginWriteAsync(CancellationToken.None))
        {
            var now = time.GetUtcNow();
            var changed = await db.GenerationJobs.Where(j => j.Id == jobId && j.OwnerId == userId && j.State == JobState.Queued)
                .ExecuteUpdateAsync(s => s.SetProperty(j => j.State, JobState.Cancelled).SetProperty(j => j.FinishedAt, now), CancellationToken.None);
            if (changed > 0)
            {
                await UsageLedger.SettleAsync(db, jobId, 0, 0, "", now, CancellationToken.None);
                await db.SaveChangesAsync(CancellationToken.None);
            }
            await transaction.CommitAsync(CancellationToken.None);
        }
        logger.LogInformation("Job {JobId} cancelled while queued", jobId);
        notifier.Publish(new JobUpdate { JobId = jobId, State = JobState.Cancelled });
    }

    /// <summary>The lineage parent must be an image the user may see by id and remix (Sharing's <see cref="ImageAccess"/>).</summary>
    private async Task<Guid?> RemixableParentAsync(Guid? parentImageId, CancellationToken ct)
    {
        if (parentImageId is not { } parent) return null;
        return await access.CheckRemixParentAsync(parent, Viewer.From(currentUser), ct) switch
        {
            RemixPermission.Allowed => parent,
            RemixPermission.Forbidden => throw new ForbiddenException("The creator does not allow remixing this image."),
            _ => throw new NotFoundException("The image to remix (parentImageId) does not exist or is not shared with you."),
        };
    }

    private static string? Clean(string? text, int maxLength)
    {
        if (string.IsNullOrWhiteSpace(text)) return null;
        var kept = new string(text.Where(c => !char.IsControl(c)).ToArray()).Trim();
        return kept.Length == 0 ? null : kept.Length <= maxLength ? kept : kept[..maxLength];
    }
}

/// <summary>A stored, queued job and its 1-based place in the queue when it was queued (an idle worker may take it at once).</summary>
public sealed record SubmittedJob(GenerationJob Job, int QueuePosition);
