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
        api.MapGet("/{id:guid}", GetJobAsync).WithName("GetGeneration").WithSummary("State, queue position and result links of one of your jobs.")
            .WithDescription("With `wait=N` (whole seconds, 0–30) this is a long poll: the answer comes as soon as the job has "
                + "finished (Succeeded, Failed or Cancelled), or after N seconds with its state then (e.g. Running), so a client "
                + "needs no polling loop: call again while the state is not final. Without `wait` (or `wait=0`) it answers at once. "
                + "`startedAt` (the run went to the engine) and `finishedAt` (the outcome was stored) give the worker's time for the job.")
            .ProducesValidationProblem().ProducesProblem(StatusCodes.Status404NotFound);
        api.MapDelete("/{id:guid}", CancelAsync).WithName("CancelGeneration").WithSummary("Cancel one of your queued or running jobs.")
            .ProducesProblem(StatusCodes.Status404NotFound);
        return app;
    }

    /// <summary>The body is read here (not by parameter binding) so that malformed JSON gets problem+json naming the field, in every environment.</summary>
    private static async Task<Accepted<GenerationJobDto>> SubmitAsync(HttpRequest http, SubmissionService submissions, GenerationRequestFactory requests,
        IOptions<JsonOptions> json, CancellationToken cancellationToken)
    {
        var request = await JsonBody.ReadAsync<GenerateRequestDto>(http, json.Value.SerializerOptions, cancellationToken);
        var model = requests.ResolveModel(request.Model);
        var (job, position) = await submissions.SubmitWithPositionAsync(request.ToCommand(model, JobOrigins.Api, http.Headers.UserAgent.ToString()), cancellationToken);
        var hints = VocabularyHints.Check(model.Vocabulary, job.Settings.Prompt, job.Settings.NegativePrompt);
        // The job as it was queued: Queued at its position then (an idle worker may already have taken it; GET tells what followed).
        var dto = new GenerationJobDto(job.Id, job.State, position, job.Settings.Steps, null, [])
        {
            CreatedAt = job.CreatedAt,
            UnknownWords = hints.UnknownWords.Select(u => u.Word).Distinct().ToList(),
            Hint = hints.Hint,
        };
        return TypedResults.Accepted($"/api/generations/{job.Id}", dto);
    }

    /// <param name="wait">Seconds to wait for the job to finish (0–30); read as text so that a bad value gets a clear 400.</param>
    private static async Task<Results<Ok<GenerationJobDto>, ProblemHttpResult>> GetJobAsync(Guid id, string? wait, ICurrentUser user, JobQueries jobs,
        CancellationToken cancellationToken)
    {
        var userId = user.RequireUserId();
        var job = await jobs.WaitAsync(userId, id, ParseWait(wait), cancellationToken);
        return job is null
            ? ApiProblems.NotFound($"You have no generation job {id}.")
            : TypedResults.Ok(new GenerationJobDto(job.JobId, job.State, job.QueuePosition, job.TotalSteps, job.Error, job.ImageIds.Select(Gallery.ApiLinks.For).ToList())
            {
                BatchSize = job.BatchSize, CreatedAt = job.CreatedAt, StartedAt = job.StartedAt, FinishedAt = job.FinishedAt,
            });
    }

    private static TimeSpan ParseWait(string? wait)
    {
        if (string.IsNullOrEmpty(wait)) return TimeSpan.Zero;
        var max = (int)JobQueries.MaxWait.TotalSeconds;
        if (!int.TryParse(wait, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var seconds) || seconds > max)
            throw new RequestInvalidException("wait", $"wait must be a whole number of seconds from 0 to {max}.");
        return TimeSpan.FromSeconds(seconds);
    }

    private static async Task<Accepted> CancelAsync(Guid id, SubmissionService submissions, CancellationToken cancellationToken)
    {
        await submissions.CancelAsync(id, cancellationToken);
        return TypedResults.Accepted($"/api/generations/{id}");
    }
}
