using DiffusionGallery.Inference.Abstractions;
using DiffusionGallery.Web.Accounts;
using DiffusionGallery.Web.Errors;
using DiffusionGallery.Web.Sharing;
using Microsoft.AspNetCore.Http.HttpResults;

namespace DiffusionGallery.Web.Gallery;

/// <summary>REST endpoints over the caller's images.</summary>
public static class GalleryApi
{
    public static IEndpointRouteBuilder MapGalleryApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/api/images").RequireAuthorization(AuthPolicies.Api).WithTags("DiffusionGallery").WithDomainErrors();
        api.MapGet("", ListImagesAsync).WithName("ListImages").WithSummary("Your images, newest first.");
        // Also for anyone when the image is Public (Sharing decides; an Unlisted image is never served by id).
        app.MapGet("/api/images/{id:guid}", GetImageAsync).RequireAuthorization(SharingExtensions.ViewerPolicy).WithTags("DiffusionGallery").WithDomainErrors()
            .WithName("GetImage").WithSummary("Settings and links of one of your images, or of a Public image as others see it.").ProducesProblem(StatusCodes.Status404NotFound);
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

    private static async Task<IResult> GetImageAsync(Guid id, ICurrentUser user, ImageAccess access, SharedImageReader shared, CancellationToken cancellationToken)
    {
        var grant = await access.ByIdAsync(id, Viewer.From(user), cancellationToken);
        if (grant is null) return ApiProblems.NotFound($"There is no image {id} that you may see.");
        return grant.IsOwner ? TypedResults.Ok(ImageDto.From(grant.Image)) : TypedResults.Ok(await shared.ReadAsync(grant, cancellationToken));
    }

    private static async Task<Results<NoContent, ProblemHttpResult>> DeleteImageAsync(Guid id, ICurrentUser user, GalleryService gallery, CancellationToken cancellationToken) =>
        await gallery.DeleteAsync(user.RequireUserId(), id, cancellationToken) ? TypedResults.NoContent() : ApiProblems.NotFound($"You have no image {id}.");
}
