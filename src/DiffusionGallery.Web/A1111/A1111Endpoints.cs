using System.Globalization;
using System.Security.Claims;
using System.Text.Json.Nodes;
using DiffusionGallery.Inference.Imaging;
using DiffusionGallery.Inference.Metadata;
using DiffusionGallery.Web.Data.Entities;
using DiffusionGallery.Web.Errors;
using Microsoft.Extensions.Options;

namespace DiffusionGallery.Web.A1111;

/// <summary>AUTOMATIC1111's <c>/sdapi/v1</c> API, with its paths, field names and shapes, for the caller's own account.</summary>
public static class A1111Endpoints
{
    public const string Prefix = "/sdapi/v1";

    public static IEndpointRouteBuilder MapA1111Endpoints(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup(Prefix).RequireAuthorization(A1111AuthenticationHandler.PolicyName).WithTags("A1111");
        api.MapGet("/samplers", () => TypedResults.Json(A1111Samplers.Samplers, A1111Json.Options)).WithSummary("Samplers, with A1111's names and aliases.");
        api.MapGet("/schedulers", () => TypedResults.Json(A1111Samplers.Schedulers, A1111Json.Options)).WithSummary("Schedule types.");
        api.MapGet("/sd-models", async (A1111ModelCatalog models, CancellationToken ct) =>
            TypedResults.Json(await models.ListAsync(ct), A1111Json.Options)).WithSummary("Models as A1111 checkpoints.");
        api.MapGet("/options", GetOptionsAsync).WithSummary("Your options (sd_model_checkpoint is per user).");
        api.MapPost("/options", SetOptionsAsync).WithSummary("Set your sd_model_checkpoint; other options are ignored.");
        api.MapPost("/png-info", PngInfo).WithSummary("The generation parameters stored in an image.");
        api.MapGet("/progress", GetProgressAsync).WithSummary("Progress of your own current txt2img/img2img call.");
        api.MapPost("/interrupt", InterruptAsync).WithSummary("Stop your own current call.");
        api.MapPost("/skip", SkipAsync).WithSummary("Skip the job of your own current call that is running.");
        api.MapPost("/txt2img", (HttpContext http, A1111RequestMapper mapper, A1111Runner runner, IOptions<A1111ApiOptions> options) =>
            GenerateAsync(http, mapper, runner, options.Value, img2img: false)).WithSummary("Text to image; answers when the images are done.");
        api.MapPost("/img2img", (HttpContext http, A1111RequestMapper mapper, A1111Runner runner, IOptions<A1111ApiOptions> options) =>
            GenerateAsync(http, mapper, runner, options.Value, img2img: true)).WithSummary("Image to image; answers when the images are done.");
        return app;
    }

    private static string UserId(this ClaimsPrincipal user) =>
        user.FindFirstValue(ClaimTypes.NameIdentifier) ?? throw new UnauthorizedAccessException();

    private static async Task<IResult> GenerateAsync(HttpContext http, A1111RequestMapper mapper, A1111Runner runner, A1111ApiOptions options, bool img2img)
    {
        var (body, error) = await A1111Body.ReadAsync(http.Request, options.A1111MaxBodyBytes, http.RequestAborted);
        if (error is not null) return error;
        var userId = http.User.UserId();
        var (plan, errors) = await mapper.MapAsync(body!, userId, img2img, http.RequestAborted);
        if (plan is null) return A1111Results.Unprocessable(errors);
        var client = http.Request.Headers.UserAgent.ToString();
        try
        {
            return await runner.RunAsync(userId, client.Length == 0 ? null : client[..Math.Min(client.Length, 200)], plan, http.RequestAborted);
        }
        catch (DomainException ex)
        {
            return A1111ErrorMapping.ToResult(ex, http, http.RequestServices.GetRequiredService<TimeProvider>());
        }
    }

    private static async Task<IResult> GetOptionsAsync(ClaimsPrincipal user, A1111ModelCatalog models, A1111OptionsStore store, CancellationToken ct)
    {
        var chosen = await store.GetCheckpointAsync(user.UserId(), ct);
        var model = (chosen is null ? null : await models.ForNameAsync(chosen, ct)) ?? await models.ForNameAsync(models.DefaultModelName, ct);
        return TypedResults.Json(new JsonObject
        {
            ["sd_model_checkpoint"] = model?.Title,
            ["sd_checkpoint_hash"] = model?.Sha256,
            ["samples_format"] = "png",
            ["sd_vae"] = "Automatic",
            ["CLIP_stop_at_last_layers"] = 1,
            ["eta_noise_seed_delta"] = 0,
        }, A1111Json.Options);
    }

    private static async Task<IResult> SetOptionsAsync(HttpContext http, A1111ModelCatalog models, A1111OptionsStore store, IOptions<A1111ApiOptions> options)
    {
        var (body, error) = await A1111Body.ReadAsync(http.Request, 1024 * 1024, http.RequestAborted);
        if (error is not null) return error;
        var checkpoint = body!.String("sd_model_checkpoint");
        if (body.Errors.Count > 0) return A1111Results.Unprocessable(body.Errors);
        if (checkpoint is not null)
        {
            var model = await models.FindAsync(checkpoint, http.RequestAborted);
            if (model is null)
                return A1111Results.Unprocessable(A1111ValidationError.Body("sd_model_checkpoint",
                    $"model '{checkpoint}' not found. Available: {string.Join(", ", (await models.ListAsync(http.RequestAborted)).Select(m => m.Title))}."));
            await store.SetCheckpointAsync(http.User.UserId(), model.ModelName, http.RequestAborted);
        }
        return A1111Results.Null(); // as A1111; other options are ignored
    }

    private static async Task<IResult> PngInfo(HttpContext http, A1111InitImageDecoder decoder)
    {
        var (body, error) = await A1111Body.ReadAsync(http.Request, decoder.MaxEncodedBytes * 4 / 3 + 4096, http.RequestAborted);
        if (error is not null) return error;
        var encoded = body!.String("image");
        if (body.Errors.Count > 0) return A1111Results.Unprocessable(body.Errors);
        if (encoded is null) return A1111Results.Unprocessable(A1111ValidationError.Body("image", "field required", "value_error.missing"));
        ImageMetadata metadata;
        try
        {
            metadata = ImageMetadataReader.Read(decoder.DecodeBase64(encoded));
        }
        catch (InvalidImageException ex)
        {
            return A1111Results.Unprocessable(A1111ValidationError.Body("image", ex.Message, "value_error.image"));
        }
        var raw = metadata.TextChunks.FirstOrDefault(c => c.Key is PngMetadata.ParametersKeyword or "UserComment").Value ?? "";
        var items = new JsonObject();
        foreach (var (key, value) in metadata.TextChunks)
        {
            if (key is not (PngMetadata.ParametersKeyword or "UserComment")) items[key] = value;
        }
        return TypedResults.Json(new { info = raw, items, parameters = ParametersObject(metadata.Parameters) }, A1111Json.Options);
    }

    /// <summary>A1111's <c>parse_generation_parameters</c> result: Prompt, Negative prompt, every key, Size-1/Size-2.</summary>
    internal static JsonObject ParametersObject(A1111Parameters? parameters)
    {
        var result = new JsonObject();
        if (parameters is null) return result;
        result["Prompt"] = parameters.Prompt;
        result["Negative prompt"] = parameters.NegativePrompt;
        foreach (var (key, value) in parameters.Settings)
        {
            if (key == "Size" && parameters.Size is { } size)
            {
                result["Size-1"] = size.Width.ToString(CultureInfo.InvariantCulture);
                result["Size-2"] = size.Height.ToString(CultureInfo.InvariantCulture);
            }
            else
            {
                result[key] = value;
            }
        }
        return result;
    }

    private static async Task<IResult> GetProgressAsync(ClaimsPrincipal user, A1111JobTracker tracker, A1111Submitter submitter, TimeProvider time,
        CancellationToken cancellationToken, bool skip_current_image = false)
    {
        var userId = user.UserId();
        var run = tracker.Current(userId);
        if (run is null && submitter.RunningJobOf(userId) is { } running)
            run = await tracker.FollowRunningJobAsync(userId, running, cancellationToken);
        if (run is null)
        {
            return TypedResults.Json(new A1111ProgressResponse(0, 0, A1111State.Idle, null, null, null), A1111Json.Options);
        }
        var (latest, preview) = run.Snapshot();
        var step = latest?.Step ?? 0;
        var total = latest?.TotalSteps ?? 0;
        var progress = 0.01 + (double)run.JobNo / run.JobCount + (total > 0 ? (double)step / total / run.JobCount : 0);
        var elapsed = (time.GetUtcNow() - run.StartedAt).TotalSeconds;
        var eta = elapsed / progress - elapsed;
        var state = new A1111State(run.Skipped, run.Interrupted, false, run.CurrentJobId is { } id ? $"job {id}" : "", run.JobCount,
            run.StartedAt.UtcDateTime.ToString("yyyyMMddHHmmss", CultureInfo.InvariantCulture), run.JobNo, step, total);
        var text = latest?.State == JobState.Queued && latest.QueuePosition is { } position ? $"Waiting in the queue: position {position}" : null;
        return TypedResults.Json(new A1111ProgressResponse(Math.Min(progress, 1), eta, state,
            skip_current_image || preview is null ? null : Convert.ToBase64String(preview), text, null), A1111Json.Options);
    }

    private static async Task<IResult> InterruptAsync(ClaimsPrincipal user, A1111JobTracker tracker, A1111Submitter submitter)
    {
        var userId = user.UserId();
        if (tracker.Current(userId) is { } run)
        {
            run.Interrupted = true;
            if (run.CurrentJobId is { } jobId) await submitter.CancelAsync(jobId);
        }
        else if (submitter.RunningJobOf(userId) is { } running)
        {
            await submitter.CancelAsync(running);
        }
        return TypedResults.Json(new { }, A1111Json.Options);
    }

    private static async Task<IResult> SkipAsync(ClaimsPrincipal user, A1111JobTracker tracker, A1111Submitter submitter)
    {
        var userId = user.UserId();
        if (tracker.Current(userId) is { CurrentJobId: { } jobId } run)
        {
            run.Skipped = true;
            await submitter.CancelAsync(jobId);
        }
        return A1111Results.Null();
    }
}

/// <summary>A1111's <c>shared.state.dict()</c>.</summary>
public sealed record A1111State(
    [property: System.Text.Json.Serialization.JsonPropertyName("skipped")] bool Skipped,
    [property: System.Text.Json.Serialization.JsonPropertyName("interrupted")] bool Interrupted,
    [property: System.Text.Json.Serialization.JsonPropertyName("stopping_generation")] bool StoppingGeneration,
    [property: System.Text.Json.Serialization.JsonPropertyName("job")] string Job,
    [property: System.Text.Json.Serialization.JsonPropertyName("job_count")] int JobCount,
    [property: System.Text.Json.Serialization.JsonPropertyName("job_timestamp")] string JobTimestamp,
    [property: System.Text.Json.Serialization.JsonPropertyName("job_no")] int JobNo,
    [property: System.Text.Json.Serialization.JsonPropertyName("sampling_step")] int SamplingStep,
    [property: System.Text.Json.Serialization.JsonPropertyName("sampling_steps")] int SamplingSteps)
{
    public static A1111State Idle { get; } = new(false, false, false, "", 0, "0", 0, 0, 0);
}

/// <summary>A1111's ProgressResponse.</summary>
public sealed record A1111ProgressResponse(
    [property: System.Text.Json.Serialization.JsonPropertyName("progress")] double Progress,
    [property: System.Text.Json.Serialization.JsonPropertyName("eta_relative")] double EtaRelative,
    [property: System.Text.Json.Serialization.JsonPropertyName("state")] A1111State State,
    [property: System.Text.Json.Serialization.JsonPropertyName("current_image")] string? CurrentImage,
    [property: System.Text.Json.Serialization.JsonPropertyName("textinfo")] string? TextInfo,
    [property: System.Text.Json.Serialization.JsonPropertyName("current_task")] string? CurrentTask);
