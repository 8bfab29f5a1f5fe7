using System.ComponentModel.DataAnnotations;
using System.Security.Cryptography;
using System.Text.Json.Serialization;
using DiffusionGallery.Inference.Abstractions;
using DiffusionGallery.Web.Data.Entities;
using DiffusionGallery.Web.Gallery;

namespace DiffusionGallery.Web.Generation;

/// <summary>
/// Body of POST /api/generations and of the hub's Submit. Omitted sampler, Karras choice, steps, CFG and size take the
/// model's recommendations (as the generate page does for a new user); an omitted seed is random.
/// </summary>
public sealed record GenerateRequestDto
{
    [Required] public string Prompt { get; init; } = "";
    public string? NegativePrompt { get; init; }
    public string? Model { get; init; }
    public SamplerKind? Sampler { get; init; }
    /// <summary>Karras sigma spacing (Euler, Euler a, LMS, DPM++ 2M); stored as false for the other samplers.</summary>
    public bool? KarrasSigmas { get; init; }
    public int? Steps { get; init; }
    public float? GuidanceScale { get; init; }
    public int? Width { get; init; }
    public int? Height { get; init; }
    /// <summary>Null or omitted: a random seed.</summary>
    public long? Seed { get; init; }
    public int? BatchCount { get; init; }
    public float? Temperature { get; init; }
    /// <summary>Remix: the image this one derives from (lineage). It must be visible to you by id and allow remix (404 / 403 otherwise).</summary>
    public Guid? ParentImageId { get; init; }
    /// <summary>img2img reference: <c>{"uploadId":…}</c> (POST /api/uploads) or <c>{"imageId":…}</c>; needs <see cref="Strength"/>.</summary>
    public Uploads.ImageSourceRef? InitImage { get; init; }
    /// <summary>img2img denoising strength, 0 (reconstruct) … 1 (create).</summary>
    public float? Strength { get; init; }
    /// <summary>How the reference is brought to the generation size: Crop (default), Pad or Stretch.</summary>
    public Uploads.ReferenceImageFit? Fit { get; init; }

    /// <summary>The submission of this body from a surface.</summary>
    public SubmitCommand ToCommand(ModelDescriptor model, string origin, string? client) => new(ToSettings(model))
    {
        ParentImageId = ParentImageId, Origin = origin, Client = client, InitImage = InitImage, Strength = Strength, Fit = Fit ?? Uploads.ReferenceImageFit.Crop,
    };

    /// <param name="model">The model the request names (or the default one), for its recommendations.</param>
    public GenerationSettings ToSettings(ModelDescriptor model)
    {
        ArgumentNullException.ThrowIfNull(model);
        return new GenerationSettings
        {
            Prompt = Prompt ?? "",
            NegativePrompt = NegativePrompt ?? "",
            Model = Model ?? "",
            Sampler = Sampler ?? model.RecommendedSampler,
            KarrasSigmas = KarrasSigmas ?? (Sampler is null && model.RecommendedKarras),
            Steps = Steps ?? model.RecommendedSteps,
            GuidanceScale = GuidanceScale ?? model.RecommendedGuidance,
            Width = Width ?? model.NativeWidth,
            Height = Height ?? model.NativeHeight,
            Seed = Seed ?? RandomSeed(),
            BatchCount = BatchCount ?? 1,
            Temperature = Temperature ?? 1f,
        };
    }

    public static long RandomSeed() => RandomNumberGenerator.GetInt32(int.MaxValue) * 4L + RandomNumberGenerator.GetInt32(4);
}

public sealed record GenerationJobDto(Guid Id, JobState State, int? QueuePosition, int TotalSteps, string? Error, IReadOnlyList<ImageLinks> Images)
{
    /// <summary>How many images the UNet call that made this job's images held, its own included (others' jobs shared it); null until it ran.</summary>
    public int? BatchSize { get; init; }

    /// <summary>
    /// When the submission was accepted (validated, just before it was stored and queued). <c>startedAt − createdAt</c> is
    /// its time in the queue, storing included.
    /// </summary>
    public DateTimeOffset? CreatedAt { get; init; }

    /// <summary>
    /// When the worker handed the job's run to the engine; null while queued. While the job is Running, and for a job that
    /// failed or was cancelled before its run reached the engine, it is when the worker claimed the job (a little earlier).
    /// <c>finishedAt − startedAt</c> is the worker's time for the job.
    /// </summary>
    public DateTimeOffset? StartedAt { get; init; }

    /// <summary>When the job's outcome (images, failure or cancellation) was stored; null until it finished.</summary>
    public DateTimeOffset? FinishedAt { get; init; }

    /// <summary>In the answer to a submission: the prompt and negative prompt words the model was not trained on (empty: none; the job runs anyway).</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public IReadOnlyList<string>? UnknownWords { get; init; }

    /// <summary>In the answer to a submission with unknown words: what the model knows instead, e.g. "'teal' is not known to this model; it knows these colours: …".</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? Hint { get; init; }
}
