using System.Security.Claims;
using DiffusionGallery.Inference.Abstractions;
using DiffusionGallery.Web.Auth;
using DiffusionGallery.Web.Uploads;
using Microsoft.AspNetCore.Http.HttpResults;

namespace DiffusionGallery.Web.Lab;

/// <summary>Body of POST /api/lab/forward.</summary>
public sealed record ForwardRequestDto
{
    public ImageSourceRef? Source { get; init; }
    public int[]? Timesteps { get; init; }
    /// <summary>Noise seed; omitted = 0, so the same request gives the same frames.</summary>
    public long? Seed { get; init; }
}

public sealed record ForwardResponseDto(IReadOnlyList<ForwardFrame> Frames);

public static class LabEndpoints
{
    public static IEndpointRouteBuilder MapLabEndpoints(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/api/lab").RequireAuthorization(AuthPolicies.Api).WithTags("Lab");
        api.MapPost("/forward", ForwardAsync).WithName("LabForward")
            .WithSummary("Noise a reference image (upload or gallery image) to training timesteps and decode each frame.");
        return app;
    }

    private static async Task<Results<Ok<ForwardResponseDto>, ProblemHttpResult>> ForwardAsync(
        ForwardRequestDto request, ClaimsPrincipal user, ForwardDiffusionService lab, CancellationToken cancellationToken)
    {
        try
        {
            if (request.Source is null) throw new InvalidGenerationRequestException("'source' is required: {\"uploadId\":…} or {\"imageId\":…}.");
            var userId = user.FindFirstValue(ClaimTypes.NameIdentifier) ?? throw new UnauthorizedAccessException();
            var frames = await lab.NoiseAsync(userId, request.Source, request.Timesteps ?? [], request.Seed ?? 0, cancellationToken);
            return frames is null
                ? TypedResults.Problem($"There is no {request.Source} that you may use.", statusCode: StatusCodes.Status404NotFound, title: "Not found")
                : TypedResults.Ok(new ForwardResponseDto(frames));
        }
        catch (InvalidGenerationRequestException ex)
        {
            return TypedResults.Problem(ex.Message, statusCode: StatusCodes.Status400BadRequest, title: "Invalid request");
        }
    }
}
