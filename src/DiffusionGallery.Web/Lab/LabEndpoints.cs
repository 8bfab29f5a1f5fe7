using DiffusionGallery.Web.Accounts;
using DiffusionGallery.Web.Errors;
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
        var api = app.MapGroup("/api/lab").RequireAuthorization(AuthPolicies.Api).WithTags("Lab").WithDomainErrors();
        api.MapPost("/forward", ForwardAsync).WithName("LabForward")
            .WithSummary("Noise a reference image (upload or gallery image) to training timesteps and decode each frame.")
            .ProducesValidationProblem().ProducesProblem(StatusCodes.Status404NotFound);
        return app;
    }

    private static async Task<Ok<ForwardResponseDto>> ForwardAsync(ForwardRequestDto request, ICurrentUser user, ForwardDiffusionService lab, CancellationToken cancellationToken)
    {
        var userId = user.RequireUserId();
        if (request.Source is null) throw new RequestInvalidException("source", "'source' is required: {\"uploadId\":…} or {\"imageId\":…}.");
        var frames = await lab.NoiseAsync(userId, request.Source, request.Timesteps ?? [], request.Seed ?? 0, cancellationToken)
            ?? throw new NotFoundException($"There is no {request.Source} that you may use.");
        return TypedResults.Ok(new ForwardResponseDto(frames));
    }
}
