using DiffusionGallery.Web.Sharing;
using DiffusionGallery.Web.Sharing.Endpoints;

namespace DiffusionGallery.Web.Gallery;

/// <summary>/images/{id} and /images/{id}/thumb: by id, to whoever <see cref="ImageAccess"/> allows (the owner; anyone for a Public image); 404 otherwise.</summary>
public static class ImageFileEndpoints
{
    public static IEndpointRouteBuilder MapImageFiles(this IEndpointRouteBuilder app)
    {
        var images = app.MapGroup("/images").RequireAuthorization(SharingExtensions.ViewerPolicy).WithTags("Image files");
        images.MapGet("/{id:guid}", (Guid id, bool? download, HttpContext http, ImageAccess access, ImageStore store) =>
            SharedFileEndpoints.ByIdPngAsync(id, download == true, http, access, store))
            .WithName("GetImageFile").WithSummary("The PNG of an image you may see (yours, or a Public one), with its generation parameters in the metadata unless its owner hid the prompt.")
            .Produces<byte[]>(StatusCodes.Status200OK, "image/png").Produces(StatusCodes.Status404NotFound);
        images.MapGet("/{id:guid}/thumb", (Guid id, HttpContext http, ImageAccess access, ImageStore store) =>
            SharedFileEndpoints.ByIdThumbAsync(id, http, access, store))
            .WithName("GetImageThumbnail").WithSummary("The WebP thumbnail of an image you may see.")
            .Produces<byte[]>(StatusCodes.Status200OK, "image/webp").Produces(StatusCodes.Status404NotFound);
        return app;
    }
}
