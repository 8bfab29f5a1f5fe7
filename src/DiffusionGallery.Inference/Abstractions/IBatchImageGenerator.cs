namespace DiffusionGallery.Inference.Abstractions;

/// <summary>
/// Runs several requests (usually from different users) in shared UNet calls. Requests with the same
/// <see cref="BatchKey"/> may share a run; each keeps its own prompt, negative prompt, CFG scale, seed,
/// temperature, eta, strength, batch size and previews, and its images are the same (to within 1/255 per
/// channel) as when it runs alone. <see cref="IImageGenerator.GenerateAsync"/> is the one-request case.
/// </summary>
public interface IBatchImageGenerator
{
    /// <summary>What a request must share with others to join their run. Validates nothing.</summary>
    BatchKey KeyOf(GenerationRequest request);

    /// <summary>
    /// How many images (the sum of <see cref="GenerationRequest.BatchSize"/>) one shared run of this key may hold,
    /// from the configured memory budget (at least the request's own batch size).
    /// </summary>
    int MaxBatchImages(GenerationRequest request);

    /// <summary>
    /// Runs the items together; all must have the same <see cref="KeyOf"/> (else <see cref="ArgumentException"/>).
    /// One outcome per item, in order. An item whose token is cancelled leaves the batch at the next step boundary
    /// (its outcome's error is an <see cref="OperationCanceledException"/>) while the others go on; an item whose
    /// validation or post-processing fails gets that error alone. <paramref name="cancellationToken"/> stops all.
    /// </summary>
    Task<IReadOnlyList<BatchItemOutcome>> GenerateBatchAsync(IReadOnlyList<BatchItem> items, CancellationToken cancellationToken);
}

/// <summary>The settings that items of one shared run must have in common (compared by value).</summary>
public sealed record BatchKey(string Model, int Width, int Height, SamplerKind Sampler, bool KarrasSigmas, int Steps, string Extra = "");

/// <summary>One request in a shared run, with its own progress sink and cancellation.</summary>
public sealed record BatchItem(GenerationRequest Request, IProgress<GenerationProgress>? Progress, CancellationToken CancellationToken);

/// <summary>The result of one item: exactly one of <see cref="Result"/> and <see cref="Error"/> is set.</summary>
public sealed record BatchItemOutcome(GenerationResult? Result, Exception? Error)
{
    public bool Cancelled => Error is OperationCanceledException;
}

/// <summary>
/// Optionally implemented by an <see cref="IProgress{T}"/> passed to the engine: when <see cref="WantsPreview"/>
/// returns false the engine does not decode a preview for that step (progress is still reported, without
/// previews). Lets hosts render previews only while someone watches, and at a bounded rate.
/// </summary>
public interface IPreviewDemand
{
    bool WantsPreview(int step, int totalSteps);
}
