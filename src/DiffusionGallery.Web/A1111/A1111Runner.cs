using System.Globalization;
using System.Text.Json.Nodes;
using DiffusionGallery.Inference.Metadata;
using DiffusionGallery.Web.Data.Entities;
using DiffusionGallery.Web.Generation;
using DiffusionGallery.Web.Errors;
using DiffusionGallery.Web.Gallery;
using DiffusionGallery.Web.Uploads;
using Microsoft.Extensions.Options;

namespace DiffusionGallery.Web.A1111;

/// <summary>
/// Runs a txt2img/img2img call synchronously, as A1111 clients expect: submits its jobs one after another through the
/// shared queue (quotas and fair share apply), waits for each, and answers with the PNGs exactly as stored in the
/// caller's gallery (same <c>parameters</c> chunk), <c>parameters</c> (the request) and <c>info</c> (a JSON string).
/// </summary>
public sealed class A1111Runner(
    A1111Submitter submitter,
    A1111JobTracker tracker,
    ImageStore store,
    TimeProvider time,
    IOptions<A1111ApiOptions> options,
    ILogger<A1111Runner> logger)
{
    private sealed record Produced(byte[] Png, long Seed, string Infotext);

    public async Task<IResult> RunAsync(string userId, string? client, A1111GenerationPlan plan, CancellationToken requestAborted)
    {
        ImageSourceRef? reference = null;
        if (plan.InitImage is { } initImage)
        {
            try
            {
                reference = await submitter.StoreInitImageAsync(userId, initImage, requestAborted);
            }
            catch (UploadRejectedException ex)
            {
                return A1111Results.Unprocessable([new A1111ValidationError(["body", "init_images", 0], ex.Message, "value_error.image")]);
            }
        }

        var run = tracker.Start(userId, plan.Iterations);
        var wait = TimeSpan.FromSeconds(options.Value.A1111WaitSeconds);
        var deadline = time.GetUtcNow() + wait;
        var produced = new List<Produced>();
        var warnings = plan.Warnings.ToList();
        try
        {
            for (var i = 0; i < plan.Iterations && !run.Interrupted && !requestAborted.IsCancellationRequested; i++)
            {
                var settings = plan.Settings.Clone();
                settings.Seed = plan.SeedOf(i);
                GenerationJob job;
                try
                {
                    job = await submitter.SubmitAsync(settings, plan.InitImage, reference, client, requestAborted);
                }
                catch (QuotaExceededException ex) when (produced.Count > 0)
                {
                    warnings.Add($"Stopped after {produced.Count} images: {ex.Message}");
                    break;
                }
                var update = await tracker.WaitAsync(run, job.Id, i, deadline - time.GetUtcNow(), requestAborted);
                if (update is null)
                {
                    logger.LogInformation("A1111 call of user {UserId} gave up waiting for job {JobId} after {Seconds}s", userId, job.Id, wait.TotalSeconds);
                    return A1111Results.Error(StatusCodes.Status504GatewayTimeout, "TimeoutError",
                        $"Job {job.Id} did not finish within {wait.TotalSeconds:0} seconds. It goes on: its images will be in your gallery (GET /api/generations/{job.Id}).");
                }
                switch (update.State)
                {
                    case JobState.Succeeded:
                        for (var k = 0; k < update.ImageIds.Count; k++)
                        {
                            var png = await File.ReadAllBytesAsync(store.GetImagePath(update.ImageIds[k]), CancellationToken.None);
                            produced.Add(new Produced(png, settings.Seed + k, InfotextOf(png)));
                        }
                        break;
                    case JobState.Cancelled when run.Interrupted:
                        warnings.Add($"Interrupted after {produced.Count} images.");
                        break;
                    case JobState.Cancelled:
                        warnings.Add($"Job {i + 1} of {plan.Iterations} was skipped.");
                        break;
                    default:
                        return A1111Results.Error(StatusCodes.Status500InternalServerError, "GenerationError", update.Error ?? $"Job {job.Id} failed.");
                }
            }
        }
        catch (OperationCanceledException) when (requestAborted.IsCancellationRequested)
        {
            return Results.Empty; // the client went away; the jobs go on into the gallery
        }
        finally
        {
            tracker.End(run);
        }

        return TypedResults.Json(new A1111GenerationResponse(
            plan.SendImages ? produced.Select(p => Convert.ToBase64String(p.Png)).ToList() : [],
            plan.Parameters,
            Info(plan, produced, warnings, run.StartedAt)), A1111Json.Options);
    }

    private static string InfotextOf(byte[] png)
    {
        try
        {
            return PngMetadata.Read(png).TextChunks.FirstOrDefault(c => c.Key == PngMetadata.ParametersKeyword).Value ?? "";
        }
        catch (InvalidDataException)
        {
            return "";
        }
    }

    /// <summary>A1111's <c>Processed.js()</c>: a JSON string describing the call.</summary>
    private static string Info(A1111GenerationPlan plan, IReadOnlyList<Produced> produced, IReadOnlyList<string> warnings, DateTimeOffset started)
    {
        var s = plan.Settings;
        var count = produced.Count;
        var seeds = count > 0 ? produced.Select(p => p.Seed).ToList() : [s.Seed];
        var info = new JsonObject
        {
            ["prompt"] = s.Prompt,
            ["all_prompts"] = Repeat(s.Prompt, Math.Max(count, 1)),
            ["negative_prompt"] = s.NegativePrompt,
            ["all_negative_prompts"] = Repeat(s.NegativePrompt, Math.Max(count, 1)),
            ["seed"] = seeds[0],
            ["all_seeds"] = new JsonArray(seeds.Select(x => (JsonNode)x).ToArray()),
            ["subseed"] = -1,
            ["all_subseeds"] = new JsonArray(seeds.Select(_ => (JsonNode)(-1)).ToArray()),
            ["subseed_strength"] = 0,
            ["width"] = s.Width,
            ["height"] = s.Height,
            ["sampler_name"] = plan.SamplerName,
            ["scheduler"] = A1111Samplers.SchedulerLabel(s.KarrasSigmas),
            ["cfg_scale"] = s.GuidanceScale,
            ["steps"] = s.Steps,
            ["batch_size"] = s.BatchCount,
            ["n_iter"] = plan.Iterations,
            ["restore_faces"] = false,
            ["face_restoration_model"] = null,
            ["sd_model_name"] = plan.Model.ModelName,
            ["sd_model_hash"] = plan.Model.Hash,
            ["sd_vae_name"] = null,
            ["sd_vae_hash"] = null,
            ["seed_resize_from_w"] = -1,
            ["seed_resize_from_h"] = -1,
            ["denoising_strength"] = plan.InitImage is { } init ? init.Strength : null,
            ["extra_generation_params"] = s.KarrasSigmas ? new JsonObject { ["Schedule type"] = "Karras" } : new JsonObject(),
            ["index_of_first_image"] = 0,
            ["infotexts"] = new JsonArray(produced.Select(p => (JsonNode)p.Infotext).ToArray()),
            ["styles"] = new JsonArray(),
            ["job_timestamp"] = started.UtcDateTime.ToString("yyyyMMddHHmmss", CultureInfo.InvariantCulture),
            ["clip_skip"] = 1,
            ["is_using_inpainting_conditioning"] = false,
            ["version"] = "DiffusionGallery",
            ["warnings"] = new JsonArray(warnings.Select(w => (JsonNode)w).ToArray()),
        };
        return info.ToJsonString();
    }

    private static JsonArray Repeat(string value, int count) => new(Enumerable.Repeat(value, count).Select(v => (JsonNode)v).ToArray());
}

/// <summary>A1111's TextToImageResponse / ImageToImageResponse.</summary>
public sealed record A1111GenerationResponse(
    [property: System.Text.Json.Serialization.JsonPropertyName("images")] IReadOnlyList<string> Images,
    [property: System.Text.Json.Serialization.JsonPropertyName("parameters")] JsonObject Parameters,
    [property: System.Text.Json.Serialization.JsonPropertyName("info")] string Info);
