using DiffusionGallery.Web.Accounts;

namespace DiffusionGallery.Web.Gallery;

/// <summary>/images/{id} and /images/{id}/thumb: files are served only to their owner, by id (404 for anyone else).</summary>
public static class ImageFileEndpoints
{
    public static IEndpointRouteBuilder MapImageFiles(this IEndpointRouteBuilder app)
    {
        var images = app.MapGroup("/images").RequireAuthorization(AuthPolicies.Api).WithTags("Image files");
        images.MapGet("/{id:guid}", (Guid id, bool? download, HttpContext http, ICurrentUser user, GalleryService gallery, ImageStore store, ILoggerFactory logs) =>
            ServeAsync(id, http, user, gallery, logs, store.GetImagePath(id), "image/png", download == true ? $"diffusiongallery-{id:N}.png" : null))
            .WithName("GetImageFile").WithSummary("The PNG of one of your images, with its generation parameters in the metadata.")
            .Produces<byte[]>(StatusCodes.Status200OK, "image/png").Produces(StatusCodes.Status404NotFound);
        images.MapGet("/{id:guid}/thumb", (Guid id, HttpContext http, ICurrentUser user, GalleryService gallery, ImageStore store, ILoggerFactory logs) =>
            ServeAsync(id, http, user, gallery, logs, store.GetThumbnailPath(id), "image/webp", null))
            .WithName("GetImageThumbnail").WithSummary("The WebP thumbnail of one of your images.")
            .Produces<byte[]>(StatusCodes.Status200OK, "image/webp").Produces(StatusCodes.Status404NotFound);
        return app;
    }

    private static async Task<IResult> ServeAsync(Guid id, HttpContext http, ICurrentUser user, GalleryService gallery, ILoggerFactory logs, string path, string contentType, string? downloadName)
    {
        var userId = user.RequireUserId();
        var image = await gallery.GetAsync(userId, id, http.RequestAborted);
        if (image is null || !File.Exists(path))
        {
            logs.CreateLogger("DiffusionGallery.Web.ImageAccess").LogWarning("Image {ImageId} refused to user {UserId}: not found or not theirs", id, userId);
            return TypedResults.NotFound();
        }
        http.Response.Headers.CacheControl = "private, max-age=86400";
        return TypedResults.PhysicalFile(path, contentType, downloadName, enableRangeProcessing: false);
    }
}
