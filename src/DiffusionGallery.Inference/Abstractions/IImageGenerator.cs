namespace DiffusionGallery.Inference.Abstractions;

/// <summary>
/// The contract between the inference engine and its hosts (web worker, CLI).
/// Members may be added; existing ones are not changed without updating every caller.
/// </summary>
public interface IImageGenerator
{
    /// <summary>Models that can be used in <see cref="GenerationRequest.Model"/>.</summary>
    IReadOnlyList<ModelDescriptor> Models { get; }

    /// <summary>Execution provider actually in use ("CUDA" or "CPU").</summary>
    string ExecutionProvider { get; }

    /// <summary>Throws <see cref="InvalidGenerationRequestException"/> when a setting is out of range.</summary>
    void Validate(GenerationRequest request);

    Task<GenerationResult> GenerateAsync(
        GenerationRequest request,
        IProgress<GenerationProgress>? progress,
        CancellationToken cancellationToken);
}

public enum SamplerKind { Ddim, Ddpm, Euler, EulerAncestral, Lms, DpmPlusPlus2M, Lcm }

public sealed record GenerationRequest
{
    public required string Prompt { get; init; }
    public string NegativePrompt { get; init; } = "";
    /// <summary>Model name (folder name); null means the default model.</summary>
    public string? Model { get; init; }
    public SamplerKind Sampler { get; init; } = SamplerKind.DpmPlusPlus2M;
    public bool KarrasSigmas { get; init; }
    public int Steps { get; init; } = 25;
    public float GuidanceScale { get; init; } = 7f;
    public float GuidanceRescale { get; init; }
    public int Width { get; init; } = 128;
    public int Height { get; init; } = 128;
    /// <summary>64-bit seed (bits are used as unsigned). Batch item i uses Seed + i.</summary>
    public long Seed { get; init; }
    public int BatchSize { get; init; } = 1;
    /// <summary>DDIM eta.</summary>
    public float Eta { get; init; }
    /// <summary>Scales the fresh noise injected by stochastic samplers; 1 is standard.</summary>
    public float Temperature { get; init; } = 1f;
    /// <summary>Encoded init image (PNG/JPEG/WebP) for img2img; null for txt2img.</summary>
    public byte[]? InitImage { get; init; }
    public float Strength { get; init; } = 0.75f;
    /// <summary>Emit a preview every N steps (0 = no previews).</summary>
    public int PreviewInterval { get; init; } = 1;
}

public sealed record ModelDescriptor(string Name, string DisplayName, int NativeWidth, int NativeHeight,
    SamplerKind RecommendedSampler, bool RecommendedKarras, int RecommendedSteps, float RecommendedGuidance, IReadOnlyList<string> ExamplePrompts)
{
    /// <summary>The words the model was trained on, when its folder lists them (see <see cref="Prompting.VocabularyHints"/>).</summary>
    public Models.ModelVocabulary? Vocabulary { get; init; }
}

/// <summary>A cheap latent-to-RGB preview of one batch item: RGB24 pixels, row-major.</summary>
public sealed record PreviewFrame(int Width, int Height, byte[] Rgb24);

public sealed record GenerationProgress(
    int Step,
    int TotalSteps,
    double Timestep,
    double Sigma,
    TimeSpan Elapsed,
    TimeSpan? EstimatedRemaining,
    IReadOnlyList<PreviewFrame>? Previews);

/// <summary>One finished image: PNG bytes already carrying the metadata chunks, plus its seed.</summary>
public sealed record GenerationOutput(long Seed, int Width, int Height, byte[] Png, string ParametersText)
{
    /// <summary>Everything needed to reproduce this image (also stored in the PNG's JSON chunk).</summary>
    public Metadata.GenerationMetadata? Metadata { get; init; }
}

public sealed record GenerationResult(
    IReadOnlyList<GenerationOutput> Images,
    string ModelName,
    string ModelHash,
    string ExecutionProvider,
    string RuntimeVersion,
    IReadOnlyDictionary<string, TimeSpan> StageTimings)
{
    /// <summary>The request as it was run.</summary>
    public GenerationRequest? Settings { get; init; }
    /// <summary>Prompt tokens dropped because the prompt exceeded 75 tokens (CLIP's 77 with BOS/EOS).</summary>
    public int PromptTokensTruncated { get; init; }
    public int NegativePromptTokensTruncated { get; init; }
    /// <summary>Why Auto fell back from CUDA to CPU; null when it did not.</summary>
    public string? ExecutionProviderNote { get; init; }
    /// <summary>UNet/sampler steps actually run (fewer than Steps for img2img).</summary>
    public int StepsRun { get; init; }
    /// <summary>
    /// Images in the largest UNet call this request's run shared (its own included): 1..N; equal to its own batch
    /// size when it ran alone.
    /// </summary>
    public int SharedBatchSize { get; init; }
}

public class InvalidGenerationRequestException(string message) : ArgumentException(message);
