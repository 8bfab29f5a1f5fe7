using DiffusionGallery.Inference.Onnx;

namespace DiffusionGallery.Inference.Pipeline;

/// <summary>
/// A loaded model's fixed-shape sessions of one graph (<see cref="StaticUnet"/>, <see cref="StaticVaeDecoder"/>), made
/// on first use of a shape, at most <c>limit</c> of them; shapes beyond that, and every shape once ONNX Runtime has
/// refused one (no CUDA graph for this graph, no CUDA runtime, dimensions that cannot be pinned), use the model's
/// ordinary session. Used only on the engine's threads, one call at a time; disposed with the model.
/// </summary>
/// <param name="graphName">For the log: "UNet", "VAE decoder".</param>
internal class FixedShapeCache<TKey, TSession>(string modelName, string graphName, Func<TKey, TSession> create, Func<TKey, string> describe,
    int limit, bool cudaGraphs, Action<string>? log) : IDisposable
    where TKey : notnull
    where TSession : IDisposable
{
    private readonly Dictionary<TKey, TSession> _sessions = new();
    private string? _disabledBecause;

    /// <summary>Why the fixed-shape path is off for this model; null while it is on.</summary>
    public string? DisabledBecause => _disabledBecause;
    public int Count => _sessions.Count;

    /// <summary>Whether <see cref="TryGet"/> would give a fixed-shape session for <paramref name="key"/> (unless making it fails).</summary>
    public bool Serves(TKey key) => _disabledBecause is null && (_sessions.ContainsKey(key) || _sessions.Count < limit);

    /// <summary>The fixed-shape session for <paramref name="key"/>, made now if there is room; false to use the ordinary session.</summary>
    public bool TryGet(TKey key, out TSession session)
    {
        session = default!;
        if (_disabledBecause is not null)
            return false;
        if (_sessions.TryGetValue(key, out var found))
        {
            session = found;
            return true;
        }

        if (_sessions.Count >= limit)
            return false;
        if (cudaGraphs && !CudaRuntime.TryLoad(out var why))
        {
            Disable($"the CUDA runtime library cannot be loaded ({why})");
            return false;
        }

        try
        {
            var started = System.Diagnostics.Stopwatch.GetTimestamp();
            session = create(key);
            _sessions[key] = session;
            log?.Invoke($"Model {modelName}: fixed-shape {graphName} for {describe(key)}{(cudaGraphs ? " with a CUDA graph" : "")} made in " +
                $"{System.Diagnostics.Stopwatch.GetElapsedTime(started).TotalMilliseconds:F0} ms ({_sessions.Count} of {limit}).");
            return true;
        }
        catch (Exception ex) when (ex is NotSupportedException or Microsoft.ML.OnnxRuntime.OnnxRuntimeException or InvalidOperationException)
        {
            Disable($"{describe(key)}: {ex.Message.Split('\n')[0]}");
            return false;
        }
    }

    /// <summary>Turns the fixed-shape path off for this model (after a refusal), releasing what it holds.</summary>
    public void Disable(string reason)
    {
        _disabledBecause = reason;
        log?.Invoke($"Model {modelName}: fixed-shape {graphName} sessions{(cudaGraphs ? " (CUDA graphs)" : "")} are off: {reason}. Using the ordinary {graphName} session.");
        Clear();
    }

    public void Dispose() => Clear();

    private void Clear()
    {
        foreach (var session in _sessions.Values)
            session.Dispose();
        _sessions.Clear();
    }
}
