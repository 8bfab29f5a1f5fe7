using DiffusionGallery.Inference.Prompting;
using DiffusionGallery.Web.Accounts;
using DiffusionGallery.Web.Errors;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Http.Json;
using Microsoft.Extensions.Options;

namespace DiffusionGallery.Web.Generation;

/// <summary>REST endpoints for other clients: the same submission path the Blazor UI uses.</summary>
public static class GenerationsApi
{
    public static IEndpointRouteBuilder MapGenerationsApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/api/generations").RequireAuthorization(AuthPolicies.Api).WithTags("DiffusionGallery").WithDomainErrors();

        api.MapPost("", SubmitAsync).WithName("SubmitGeneration").WithSummary("Queue a text-to-image job, or image-to-image with initImage and strength; the answer names the prompt words the model does not know (unknownWords, hint).")
            .Accepts<GenerateRequestDto>("application/json")
            .ProducesValidationProblem().ProducesProblem(StatusCodes.Status429TooManyRequests).ProducesProblem(StatusCodes.Status415UnsupportedMediaType);
        api.MapGet("/{id:guid}", GetJobAsync).WithName("GetGeneration").WithSummary("State, queue position and result links of one of your jobs.");
        api.MapDelete("/{id:guid}", CancelAsync).WithName("CancelGeneration").WithSummary("Cancel one of your queued or running jobs.")
            .ProducesProblem(StatusCodes.Status404NotFound);
        return app;
    }

    /// <summary>The body is read here (not by parameter binding) so that malformed JSON gets problem+json naming the field, in every environment.</summary>
    private static async Task<Accepted<GenerationJobDto>> SubmitAsync(HttpRequest http, SubmissionService submissions, GenerationRequestFactory requests,
        GenerationQueue queue, IOptions<JsonOptions> json, CancellationToken cancellationToken)
    {
        var request = await JsonBody.ReadAsync<GenerateRequestDto>(http, json.Value.SerializerOptions, cancellationToken);
        var model = requests.ResolveModel(request.Model);
        var job = await submissions.SubmitAsync(request.ToCommand(model, JobOrigins.Api, http.Headers.UserAgent.ToString()), cancellationToken);
        var hints = VocabularyHints.Check(model.Vocabulary, job.Settings.Prompt, job.Settings.NegativePrompt);
        var dto = new GenerationJobDto(job.Id, job.State, queue.GetPosition(job.Id), job.Settings.Steps, null, [])
        {
            UnknownWords = hints.UnknownWords.Select(u => u.Word).Distinct().ToList(),
            Hint = hints.Hint,
        };
        return TypedResults.Accepted($"/api/generations/{job.Id}", dto);
    }

    private static async Task<Results<Ok<GenerationJobDto>, NotFound>> GetJobAsync(Guid id, ICurrentUser user, JobQueries jobs, CancellationToken cancellationToken)
    {
        var job = await jobs.GetAsync(user.RequireUserId(), id, cancellationToken);
        return job is null
            ? TypedResults.NotFound()
            : TypedResults.Ok(new GenerationJobDto(job.JobId, job.State, job.QueuePosition, job.TotalSteps, job.Error, job.ImageIds.Select(Gallery.ApiLinks.For).ToList()) { BatchSize = job.BatchSize });
    }

    private static async Task<Accepted> CancelAsync(Guid id, SubmissionService submissions, CancellationToken cancellationToken)
    {
        await submissions.CancelAsync(id, cancellationToken);
        return TypedResults.Accepted($"/api/generations/{id}");
    }
}
