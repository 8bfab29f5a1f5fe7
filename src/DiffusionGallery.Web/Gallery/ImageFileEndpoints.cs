using DiffusionGallery.Web.Sharing;
using DiffusionGallery.Web.Sharing.Endpoints;

namespace DiffusionGallery.Web.Gallery;

/// <summary>/images/{id} and /images/{id}/thumb: by id, to whoever <see cref="ImageAccess"/> allows (the owner; anyone for a Public image); 404 otherwise.</summary>
public static class ImageFileEndpoints
{
    public static IEndpointRouteBuilder MapImageFiles(this IEndpointRouteBuilder app)
    {
        var images = app.MapGroup("/images").RequireAuthorization(SharingExtensions.ViewerPolicy).ExcludeFromDescription();
        images.MapGet("/{id:guid}", (Guid id, bool? download, HttpContext http, ImageAccess access, ImageStore store) =>
            SharedFileEndpoints.ByIdPngAsync(id, download == true, http, access, store));
        images.MapGet("/{id:guid}/thumb", (Guid id, HttpContext http, ImageAccess access, ImageStore store) =>
            SharedFileEndpoints.ByIdThumbAsync(id, http, access, store));
        return app;
    }
}
