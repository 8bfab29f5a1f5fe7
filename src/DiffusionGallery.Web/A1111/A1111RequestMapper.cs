using System.Text.Json.Nodes;
using DiffusionGallery.Inference.Imaging;
using DiffusionGallery.Inference.Metadata;
using DiffusionGallery.Web.Data.Entities;
using DiffusionGallery.Web.Generation;
using DiffusionGallery.Web.Options;
using Microsoft.Extensions.Options;

namespace DiffusionGallery.Web.A1111;

/// <summary>
/// Turns a txt2img/img2img body into an <see cref="A1111GenerationPlan"/>. Fields we honour are checked against the
/// same limits as every other way in (GenerationOptions) and reported with FastAPI's locations; fields we do not
/// support are accepted and listed as warnings; omitted fields take the model's recommendations.
/// </summary>
public sealed class A1111RequestMapper(
    GenerationRequestFactory requests,
    A1111ModelCatalog models,
    A1111OptionsStore userOptions,
    A1111InitImageDecoder images,
    IOptions<GenerationOptions> limits)
{
    public const int MaxIterations = 100;

    /// <summary>Fields A1111 clients send that need no warning: they are honoured, or they only concern A1111's own files and UI.</summary>
    private static readonly string[] QuietFields =
        ["save_images", "do_not_save_samples", "do_not_save_grid", "override_settings_restore_afterwards", "send_images", "force_task_id", "infotext"];

    public async Task<(A1111GenerationPlan? Plan, IReadOnlyList<A1111ValidationError> Errors)> MapAsync(
        A1111Body body, string userId, bool img2img, CancellationToken cancellationToken)
    {
        var warnings = new List<string>();
        var max = limits.Value;
        var prompt = body.String("prompt") ?? "";
        var negative = body.String("negative_prompt") ?? "";
        if (string.IsNullOrWhiteSpace(prompt)) body.Errors.Add(A1111ValidationError.Body("prompt", "The prompt is empty.", "value_error.missing"));
        if (prompt.Length > max.MaxPromptLength) body.Errors.Add(A1111ValidationError.Body("prompt", $"ensure this value has at most {max.MaxPromptLength} characters", "value_error.any_str.max_length"));
        if (negative.Length > max.MaxPromptLength) body.Errors.Add(A1111ValidationError.Body("negative_prompt", $"ensure this value has at most {max.MaxPromptLength} characters", "value_error.any_str.max_length"));
        var seed = body.Integer("seed");
        var steps = body.Integer("steps");
        body.InRange("steps", steps, 1, max.MaxSteps);
        var cfg = body.Number("cfg_scale");
        body.InRange("cfg_scale", cfg, max.MinGuidance, max.MaxGuidance);
        var width = body.Integer("width");
        var height = body.Integer("height");
        foreach (var (name, side) in new[] { ("width", width), ("height", height) })
        {
            if (body.InRange(name, side, max.MinPixelsSide, max.MaxPixelsSide) && side is { } s && s % 8 != 0)
                body.Errors.Add(A1111ValidationError.Body(name, "ensure this value is a multiple of 8", "value_error.number.not_multiple") with { Ctx = new JsonObject { ["multiple_of"] = 8 } });
        }
        var batchSize = body.Integer("batch_size");
        body.InRange("batch_size", batchSize, 1, max.MaxBatch);
        var iterations = body.Integer("n_iter");
        body.InRange("n_iter", iterations, 1, MaxIterations);
        CheckSeed(body, seed, Math.Clamp(iterations ?? 1, 1, MaxIterations) * Math.Clamp(batchSize ?? 1, 1, max.MaxBatch));
        var samplerName = body.String("sampler_name");
        var samplerIndex = body.String("sampler_index");
        var scheduler = body.String("scheduler");
        var eta = body.Number("eta");
        if (eta is { } e && e != 0) warnings.Add("'eta' is not supported and was ignored.");
        var sendImages = body.Boolean("send_images") ?? true;
        body.Boolean("save_images"); // images always land in the caller's gallery
        body.Accept(QuietFields);

        var overrides = body.Object("override_settings");
        string? checkpoint = null;
        if (overrides is not null)
        {
            foreach (var (key, value) in overrides)
            {
                if (key == "sd_model_checkpoint" && value is JsonValue v && v.TryGetValue<string>(out var c)) checkpoint = c;
                else if (key == "sd_model_checkpoint" && value is not null)
                    body.Errors.Add(new A1111ValidationError(["body", "override_settings", "sd_model_checkpoint"], "str type expected", "type_error.str"));
                else if (!A1111Body.IsNeutral(value)) warnings.Add($"override_settings.{key} is not supported and was ignored.");
            }
        }

        // img2img fields
        JsonArray? initImages = null;
        double? strength = null;
        long? resizeMode = null;
        if (img2img)
        {
            initImages = body.Array("init_images");
            strength = body.Number("denoising_strength");
            body.InRange("denoising_strength", strength, 0, 1);
            resizeMode = body.Integer("resize_mode");
            body.InRange("resize_mode", resizeMode, 0, 3);
            if (initImages is null || initImages.Count == 0)
                body.Errors.Add(A1111ValidationError.Body("init_images", "field required", "value_error.missing"));
            else if (initImages.Count > 1)
                warnings.Add($"Only the first of the {initImages.Count} init_images was used.");
        }

        var model = await ResolveModelAsync(checkpoint, userId, body, cancellationToken);
        if (body.Errors.Count > 0 || model is null) return (null, body.Errors);

        var descriptor = requests.ResolveModel(model.ModelName);
        var sampler = A1111Samplers.Resolve(string.IsNullOrWhiteSpace(samplerName) ? samplerIndex : samplerName, scheduler, descriptor, warnings);
        if (sampler is null)
        {
            var field = string.IsNullOrWhiteSpace(samplerName) ? "sampler_index" : "sampler_name";
            return (null, [A1111ValidationError.Body(field, $"Sampler not found: '{(string.IsNullOrWhiteSpace(samplerName) ? samplerIndex : samplerName)}'. Available: {A1111Samplers.Available}.")]);
        }

        var settings = new GenerationSettings
        {
            Prompt = prompt,
            NegativePrompt = negative,
            Model = model.ModelName,
            Sampler = sampler.Value.Kind,
            KarrasSigmas = sampler.Value.Karras,
            Steps = (int)(steps ?? descriptor.RecommendedSteps),
            GuidanceScale = (float)(cfg ?? descriptor.RecommendedGuidance),
            Width = (int)(width ?? descriptor.NativeWidth),
            Height = (int)(height ?? descriptor.NativeHeight),
            Seed = seed is null or -1 ? A1111GenerationPlan.RandomSeed() : seed.Value,
            BatchCount = (int)(batchSize ?? 1),
            Temperature = 1f,
        };

        A1111InitImage? init = null;
        if (img2img)
        {
            var first = initImages![0];
            if (first is not JsonValue iv || !iv.TryGetValue<string>(out var encoded))
                return (null, [new A1111ValidationError(["body", "init_images", 0], "str type expected", "type_error.str")]);
            try
            {
                // base64 only here; the pixels are checked when the runner stores the image as the caller's upload
                init = new A1111InitImage(images.DecodeBase64(encoded), (float)(strength ?? 0.75), (int)(resizeMode ?? 0));
            }
            catch (InvalidImageException ex)
            {
                return (null, [new A1111ValidationError(["body", "init_images", 0], ex.Message, "value_error.image")]);
            }
        }

        foreach (var field in body.UnreadActiveFields())
            warnings.Add($"'{field}' is not supported and was ignored.");

        var samplerLabel = A1111SamplerNames.ToA1111(settings.Sampler);
        var parameters = (JsonObject)body.Raw.DeepClone();
        parameters["prompt"] = settings.Prompt;
        parameters["negative_prompt"] = settings.NegativePrompt;
        parameters["seed"] = seed ?? -1;
        parameters["steps"] = settings.Steps;
        parameters["cfg_scale"] = settings.GuidanceScale;
        parameters["width"] = settings.Width;
        parameters["height"] = settings.Height;
        parameters["sampler_name"] = samplerLabel;
        parameters["scheduler"] = A1111Samplers.SchedulerLabel(settings.KarrasSigmas);
        parameters["batch_size"] = settings.BatchCount;
        parameters["n_iter"] = (int)(iterations ?? 1);
        parameters["send_images"] = sendImages;
        if (img2img)
        {
            parameters["init_images"] = null; // as A1111: the images are not echoed back
            parameters["denoising_strength"] = init!.Strength;
            parameters["resize_mode"] = init.ResizeMode;
        }

        return (new A1111GenerationPlan
        {
            Settings = settings,
            Iterations = (int)(iterations ?? 1),
            SendImages = sendImages,
            SamplerName = samplerLabel,
            Model = model,
            Warnings = warnings,
            Parameters = parameters,
            InitImage = init,
        }, []);
    }

    private async Task<A1111ModelItem?> ResolveModelAsync(string? checkpoint, string userId, A1111Body body, CancellationToken cancellationToken)
    {
        if (!string.IsNullOrWhiteSpace(checkpoint))
        {
            var found = await models.FindAsync(checkpoint, cancellationToken);
            if (found is null)
                body.Errors.Add(new A1111ValidationError(["body", "override_settings", "sd_model_checkpoint"],
                    $"model '{checkpoint}' not found. Available: {string.Join(", ", (await models.ListAsync(cancellationToken)).Select(m => m.Title))}.", "value_error"));
            return found;
        }
        var chosen = await userOptions.GetCheckpointAsync(userId, cancellationToken);
        return (chosen is null ? null : await models.ForNameAsync(chosen, cancellationToken))
            ?? await models.ForNameAsync(models.DefaultModelName, cancellationToken);
    }

    /// <summary>
    /// -1 (random) or 0 … <see cref="Seeds.Max"/>, less room for the seeds that follow (image k of the call has seed + k), so
    /// that no job of the call is refused halfway. Compared as a long: a double misses seeds just over the limit.
    /// </summary>
    private static void CheckSeed(A1111Body body, long? seed, long images)
    {
        if (seed is not { } value || value == -1) return;
        var upper = Seeds.Max - Math.Max(0, images - 1);
        if (value >= 0 && value <= upper) return;
        body.Errors.Add(A1111ValidationError.Body("seed", $"ensure this value is -1 (random) or from 0 to {upper}", value < 0 ? "value_error.number.not_ge" : "value_error.number.not_le")
            with { Ctx = new JsonObject { ["limit_value"] = value < 0 ? -1 : upper } });
    }
}
