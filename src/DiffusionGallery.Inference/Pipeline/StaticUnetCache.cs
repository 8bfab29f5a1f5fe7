using DiffusionGallery.Inference.Models;
using DiffusionGallery.Inference.Onnx;

namespace DiffusionGallery.Inference.Pipeline;

/// <summary>
/// A loaded model's fixed-shape UNets (<see cref="StaticUnet"/>), made on first use of a shape, at most
/// <c>limit</c> of them; shapes beyond that, and every shape once ONNX Runtime has refused one (no CUDA graph for this
/// graph, no CUDA runtime, dimensions that cannot be pinned), use the model's ordinary UNet session. Used only under
/// the engine's GPU gate, one run at a time; disposed with the model.
/// </summary>
internal sealed class StaticUnetCache(LoadedModel model, SessionFactory factory, int limit, bool cudaGraphs, int cudaDevice, Action<string>? log) : IDisposable
{
    private readonly Dictionary<(StaticUnetShape Shape, bool TimestepCond), StaticUnet> _unets = new();
    private string? _disabledBecause;

    /// <summary>Why the fixed-shape path is off for this model; null while it is on.</summary>
    public string? DisabledBecause => _disabledBecause;
    public int Count => _unets.Count;

    /// <summary>The fixed-shape UNet for <paramref name="shape"/>, made now if there is room; false to use the ordinary session.</summary>
    public bool TryGet(StaticUnetShape shape, bool timestepCond, out StaticUnet unet)
    {
        unet = null!;
        if (_disabledBecause is not null)
            return false;
        if (_unets.TryGetValue((shape, timestepCond), out var found))
        {
            unet = found;
            return true;
        }

        if (_unets.Count >= limit)
            return false;
        if (cudaGraphs && !CudaRuntime.TryLoad(out var why))
        {
            Disable($"the CUDA runtime library cannot be loaded ({why})");
            return false;
        }

        try
        {
            var started = System.Diagnostics.Stopwatch.GetTimestamp();
            unet = StaticUnet.Create(model, factory, shape, timestepCond, cudaGraphs ? cudaDevice : null);
            _unets[(shape, timestepCond)] = unet;
            log?.Invoke($"Model {model.Name}: fixed-shape UNet for {shape}{(cudaGraphs ? " with a CUDA graph" : "")} made in " +
                $"{System.Diagnostics.Stopwatch.GetElapsedTime(started).TotalMilliseconds:F0} ms ({_unets.Count} of {limit}).");
            return true;
        }
        catch (Exception ex) when (ex is NotSupportedException or Microsoft.ML.OnnxRuntime.OnnxRuntimeException or InvalidOperationException)
        {
            Disable($"{shape}: {ex.Message.Split('\n')[0]}");
            return false;
        }
    }

    /// <summary>Turns the fixed-shape path off for this model (after a refusal), releasing what it holds.</summary>
    public void Disable(string reason)
    {
        _disabledBecause = reason;
        log?.Invoke($"Model {model.Name}: fixed-shape UNet sessions{(cudaGraphs ? " (CUDA graphs)" : "")} are off: {reason}. Using the ordinary UNet session.");
        foreach (var unet in _unets.Values)
            unet.Dispose();
        _unets.Clear();
    }

    public void Dispose()
    {
        foreach (var unet in _unets.Values)
            unet.Dispose();
        _unets.Clear();
    }
}
