using DiffusionGallery.Inference.Abstractions;

namespace DiffusionGallery.Web.Generation;

/// <summary>One engine instance (own sessions) on one device; the worker runs one loop per device.</summary>
public sealed record DeviceEngine(int DeviceId, IImageGenerator Generator, IBatchImageGenerator Batches)
{
    /// <summary>An engine that cannot share runs gets <see cref="SingleRequestBatches"/>: every job runs alone.</summary>
    public static DeviceEngine For(int deviceId, IImageGenerator generator) =>
        new(deviceId, generator, generator as IBatchImageGenerator ?? new SingleRequestBatches(generator));
}

/// <summary>
/// The engines of this process, one per configured device (<c>Inference:Devices</c>); the first is the
/// <see cref="IImageGenerator"/> the rest of the app uses for models and validation. Disposes the extra ones.
/// </summary>
public sealed class EngineDevices : IDisposable
{
    private readonly IReadOnlyList<IDisposable> _owned;

    public EngineDevices(IReadOnlyList<DeviceEngine> engines, IReadOnlyList<IDisposable>? owned = null)
    {
        if (engines.Count == 0) throw new ArgumentException("At least one engine is needed.", nameof(engines));
        All = engines;
        _owned = owned ?? [];
    }

    public IReadOnlyList<DeviceEngine> All { get; }

    public DeviceEngine Primary => All[0];

    public void Dispose()
    {
        foreach (var engine in _owned) engine.Dispose();
    }
}

/// <summary>Shares nothing: each request is its own run (for engines without <see cref="IBatchImageGenerator"/>).</summary>
public sealed class SingleRequestBatches(IImageGenerator generator) : IBatchImageGenerator
{
    public BatchKey KeyOf(GenerationRequest request) =>
        new(request.Model ?? "", request.Width, request.Height, request.Sampler, request.KarrasSigmas, request.Steps, Guid.NewGuid().ToString("N"));

    public int MaxBatchImages(GenerationRequest request) => request.BatchSize;

    public async Task<IReadOnlyList<BatchItemOutcome>> GenerateBatchAsync(IReadOnlyList<BatchItem> items, CancellationToken cancellationToken)
    {
        var outcomes = new List<BatchItemOutcome>(items.Count);
        foreach (var item in items)
        {
            cancellationToken.ThrowIfCancellationRequested();
            using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, item.CancellationToken);
            try
            {
                var result = await generator.GenerateAsync(item.Request, item.Progress, linked.Token);
                outcomes.Add(new BatchItemOutcome(result.SharedBatchSize > 0 ? result : result with { SharedBatchSize = item.Request.BatchSize }, null));
            }
            catch (OperationCanceledException ex) when (!cancellationToken.IsCancellationRequested)
            {
                outcomes.Add(new BatchItemOutcome(null, ex));
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                outcomes.Add(new BatchItemOutcome(null, ex));
            }
        }
        return outcomes;
    }
}
