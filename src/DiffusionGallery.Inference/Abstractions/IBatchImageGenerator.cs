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

    /// <summary>
    /// Like <see cref="GenerateBatchAsync"/>, but the run stays open to new items (continuous batching): before each
    /// UNet step the engine asks <paramref name="feed"/> for items of the same key to join, while fewer than
    /// <paramref name="maxImages"/> images are running; each item's outcome goes to <see cref="IRunFeed.Finished"/> as
    /// soon as it is ready, while the others go on. Completes when no item is left and the feed offers none.
    /// Engines that cannot join runs (or models whose UNet takes one timestep for all rows) run the given items only.
    /// </summary>
    async Task RunJoinableAsync(IReadOnlyList<BatchItem> items, IRunFeed feed, int maxImages, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(feed);
        var outcomes = await GenerateBatchAsync(items, cancellationToken).ConfigureAwait(false);
        feed.Finished(items.Select((item, i) => (item, outcomes[i])).ToList());
    }
}

/// <summary>The other side of <see cref="IBatchImageGenerator.RunJoinableAsync"/>: where new items come from and outcomes go.</summary>
public interface IRunFeed
{
    /// <summary>
    /// Items to join the running run now, of <paramref name="key"/> and at most <paramref name="freeImages"/> images in
    /// all (the sum of their batch sizes); empty when there are none. Called on the engine's thread between UNet
    /// steps: must return at once.
    /// </summary>
    IReadOnlyList<BatchItem> TakeJoiners(BatchKey key, int freeImages);

    /// <summary>
    /// Outcomes as soon as they are ready (the run's first items and joiners alike, each once); the items that ended at
    /// the same step come together. Must not block.
    /// </summary>
    void Finished(IReadOnlyList<(BatchItem Item, BatchItemOutcome Outcome)> ended);

    /// <summary>
    /// Where the run's step loop spent its time since the last report: every few seconds while it runs, and when it
    /// drains (engines that cannot join runs report nothing). Called on the engine's thread: must not block.
    /// </summary>
    void LoopReport(RunLoopReport report)
    {
    }
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
