using DiffusionGallery.Inference.Abstractions;
using DiffusionGallery.Web.Accounts;
using DiffusionGallery.Web.Errors;
using Microsoft.AspNetCore.Http.HttpResults;

namespace DiffusionGallery.Web.Gallery;

/// <summary>REST endpoints over the caller's images.</summary>
public static class GalleryApi
{
    public static IEndpointRouteBuilder MapGalleryApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/api/images").RequireAuthorization(AuthPolicies.Api).WithTags("DiffusionGallery").WithDomainErrors();
        api.MapGet("", ListImagesAsync).WithName("ListImages").WithSummary("Your images, newest first.");
        api.MapGet("/{id:guid}", GetImageAsync).WithName("GetImage").WithSummary("Settings and links of one of your images.");
        api.MapDelete("/{id:guid}", DeleteImageAsync).WithName("DeleteImage").WithSummary("Delete one of your images and its files.");
        return app;
    }

    private static async Task<Ok<ImagePageDto>> ListImagesAsync(ICurrentUser user, GalleryService gallery, CancellationToken cancellationToken,
        int page = 1, int pageSize = 24, string? search = null, string? model = null, SamplerKind? sampler = null)
    {
        page = Math.Max(1, page);
        pageSize = Math.Clamp(pageSize, 1, GalleryService.MaxPageSize);
        var result = await gallery.QueryAsync(user.RequireUserId(), new GalleryQuery(search, model, sampler, (page - 1) * pageSize, pageSize), cancellationToken);
        return TypedResults.Ok(new ImagePageDto(result.Items.Select(ImageDto.From).ToList(), result.Total, page, pageSize));
    }

    private static async Task<Results<Ok<ImageDto>, NotFound>> GetImageAsync(Guid id, ICurrentUser user, GalleryService gallery, CancellationToken cancellationToken)
    {
        var image = await gallery.GetAsync(user.RequireUserId(), id, cancellationToken);
        return image is null ? TypedResults.NotFound() : TypedResults.Ok(ImageDto.From(image));
    }

    private static async Task<Results<NoContent, NotFound>> DeleteImageAsync(Guid id, ICurrentUser user, GalleryService gallery, CancellationToken cancellationToken) =>
        await gallery.DeleteAsync(user.RequireUserId(), id, cancellationToken) ? TypedResults.NoContent() : TypedResults.NotFound();
}
