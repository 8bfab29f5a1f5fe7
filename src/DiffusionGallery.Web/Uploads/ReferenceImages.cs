using DiffusionGallery.Inference.Abstractions;
using DiffusionGallery.Web.Data.Entities;
using DiffusionGallery.Web.Errors;
using DiffusionGallery.Web.Gallery;
using DiffusionGallery.Web.Generation;

namespace DiffusionGallery.Web.Uploads;

/// <summary>
/// img2img references on the submission path: at submit time, checks that the user may see the reference and records it
/// in the job's settings; at run time, loads its pixels for the worker, fitted to the job's size.
/// </summary>
public sealed class ReferenceImages(IImageSourceResolver sources, UploadService uploads, UploadStore uploadFiles, ImageStore images)
{
    /// <summary>The command's settings with its reference (if any) recorded; the reference must be one the user may see.</summary>
    /// <exception cref="RequestInvalidException">The reference names neither or both kinds, or nothing the user may use.</exception>
    public async Task<GenerationSettings> AttachAsync(string userId, SubmitCommand command, CancellationToken ct)
    {
        var settings = command.Settings.Clone();
        settings.InitUploadId = null;
        settings.InitImageId = null;
        settings.Strength = command.Strength;
        settings.Fit = Enum.IsDefined(command.Fit) ? command.Fit : ReferenceImageFit.Crop;
        if (command.InitImage is not { } reference) return settings;

        reference.ThrowIfInvalid(GenerationRequestFactory.Fields.InitImage);
        if (await sources.ResolveAsync(userId, reference, ct) is null)
            throw new RequestInvalidException(GenerationRequestFactory.Fields.InitImage, $"There is no {reference} that you may use as a reference.");
        settings.InitUploadId = reference.UploadId;
        settings.InitImageId = reference.ImageId;
        if (reference.UploadId is { } uploadId) await uploads.MarkUsedAsync(userId, uploadId, ct);
        return settings;
    }

    /// <summary>The engine request with the job's reference attached (PNG at the job's size); unchanged for txt2img.</summary>
    /// <exception cref="InvalidGenerationRequestException">The reference was deleted before the job ran.</exception>
    public async Task<GenerationRequest> LoadAsync(string ownerId, GenerationSettings settings, GenerationRequest request, CancellationToken ct)
    {
        // Visibility was checked when the job was submitted; here the file is read by id.
        var path = settings.InitUploadId is { } uploadId ? uploadFiles.PathFor(uploadId)
            : settings.InitImageId is { } imageId ? images.GetImagePath(imageId)
            : null;
        if (path is null) return request;
        byte[] png;
        try
        {
            png = await File.ReadAllBytesAsync(path, ct);
        }
        catch (Exception ex) when (ex is FileNotFoundException or DirectoryNotFoundException)
        {
            throw new InvalidGenerationRequestException("The reference image was deleted before the job ran.");
        }
        return request with
        {
            InitImage = ReferenceImageFitter.Fit(png, settings.Width, settings.Height, settings.Fit),
            Strength = settings.Strength ?? 0.75f,
        };
    }
}
