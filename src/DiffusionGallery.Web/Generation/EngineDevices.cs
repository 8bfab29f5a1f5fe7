using DiffusionGallery.Inference.Abstractions;

namespace DiffusionGallery.Web.Generation;

/// <summary>One engine instance (own sessions) on one device; the worker runs one loop per device.</summary>
public sealed record DeviceEngine(int DeviceId, IImageGenerator Generator, IBatchImageGenerator Batches)
{
    /// <summary>The worker runs every job through shared runs, so the engine must offer them.</summary>
    public static DeviceEngine For(int deviceId, IImageGenerator generator) =>
        new(deviceId, generator, generator as IBatchImageGenerator
            ?? throw new ArgumentException($"{generator.GetType().Name} does not implement {nameof(IBatchImageGenerator)}.", nameof(generator)));
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
