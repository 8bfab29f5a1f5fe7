using System.Security.Claims;
using DiffusionGallery.Inference.Abstractions;
using DiffusionGallery.Web.Auth;
using DiffusionGallery.Web.Generation;
using Microsoft.AspNetCore.Http.HttpResults;

namespace DiffusionGallery.Web.Api;

/// <summary>REST endpoints for other clients: the same queue the Blazor UI uses.</summary>
public static class GenerationsApi
{
    public static IEndpointRouteBuilder MapGenerationsApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/api").RequireAuthorization(AuthPolicies.Api).WithTags("DiffusionGallery");

        api.MapPost("/generations", SubmitAsync).WithName("SubmitGeneration").WithSummary("Queue a text-to-image job.");
        api.MapGet("/generations/{id:guid}", GetJobAsync).WithName("GetGeneration").WithSummary("State, queue position and result links of one of your jobs.");
        api.MapDelete("/generations/{id:guid}", CancelAsync).WithName("CancelGeneration").WithSummary("Cancel one of your queued or running jobs.");
        api.MapGet("/images", ListImagesAsync).WithName("ListImages").WithSummary("Your images, newest first.");
        api.MapGet("/images/{id:guid}", GetImageAsync).WithName("GetImage").WithSummary("Settings and links of one of your images.");
        api.MapDelete("/images/{id:guid}", DeleteImageAsync).WithName("DeleteImage").WithSummary("Delete one of your images and its files.");
        return app;
    }

    internal static string UserId(this ClaimsPrincipal user) =>
        user.FindFirstValue(ClaimTypes.NameIdentifier) ?? throw new UnauthorizedAccessException();

    private static async Task<Results<Accepted<GenerationJobDto>, ProblemHttpResult>> SubmitAsync(
        GenerateRequestDto request, ClaimsPrincipal user, GenerationQueue queue, GenerationRequestFactory requests, CancellationToken cancellationToken)
    {
        try
        {
            var settings = request.ToSettings(requests.ResolveModel(request.Model));
            var job = await queue.EnqueueAsync(user.UserId(), settings, null, cancellationToken);
            var dto = new GenerationJobDto(job.Id, job.State, queue.GetPosition(job.Id), job.Settings.Steps, null, []);
            return TypedResults.Accepted($"/api/generations/{job.Id}", dto);
        }
        catch (InvalidGenerationRequestException ex)
        {
            return TypedResults.Problem(ex.Message, statusCode: StatusCodes.Status400BadRequest, title: "Invalid settings");
        }
        catch (QuotaExceededException ex)
        {
            return TypedResults.Problem(ex.Message, statusCode: StatusCodes.Status429TooManyRequests, title: "Quota exceeded");
        }
    }

    private static async Task<Results<Ok<GenerationJobDto>, NotFound>> GetJobAsync(Guid id, ClaimsPrincipal user, JobQueries jobs, CancellationToken cancellationToken)
    {
        var job = await jobs.GetAsync(user.UserId(), id, cancellationToken);
        return job is null
            ? TypedResults.NotFound()
            : TypedResults.Ok(new GenerationJobDto(job.JobId, job.State, job.QueuePosition, job.TotalSteps, job.Error, job.ImageIds.Select(ApiLinks.For).ToList()));
    }

    private static async Task<Results<Accepted, NotFound>> CancelAsync(Guid id, ClaimsPrincipal user, GenerationQueue queue, CancellationToken cancellationToken) =>
        await queue.CancelAsync(id, user.UserId(), cancellationToken) ? TypedResults.Accepted($"/api/generations/{id}") : TypedResults.NotFound();

    private static async Task<Ok<ImagePageDto>> ListImagesAsync(ClaimsPrincipal user, GalleryService gallery, CancellationToken cancellationToken,
        int page = 1, int pageSize = 24, string? search = null, string? model = null, SamplerKind? sampler = null)
    {
        page = Math.Max(1, page);
        pageSize = Math.Clamp(pageSize, 1, GalleryService.MaxPageSize);
        var result = await gallery.QueryAsync(user.UserId(), new GalleryQuery(search, model, sampler, (page - 1) * pageSize, pageSize), cancellationToken);
        return TypedResults.Ok(new ImagePageDto(result.Items.Select(ImageDto.From).ToList(), result.Total, page, pageSize));
    }

    private static async Task<Results<Ok<ImageDto>, NotFound>> GetImageAsync(Guid id, ClaimsPrincipal user, GalleryService gallery, CancellationToken cancellationToken)
    {
        var image = await gallery.GetAsync(user.UserId(), id, cancellationToken);
        return image is null ? TypedResults.NotFound() : TypedResults.Ok(ImageDto.From(image));
    }

    private static async Task<Results<NoContent, NotFound>> DeleteImageAsync(Guid id, ClaimsPrincipal user, GalleryService gallery, CancellationToken cancellationToken) =>
        await gallery.DeleteAsync(user.UserId(), id, cancellationToken) ? TypedResults.NoContent() : TypedResults.NotFound();
}
