namespace DiffusionGallery.Inference.Onnx;

/// <summary>
/// Keeps CUDA graph captures alone in the process. ONNX Runtime captures a fixed-shape session's graph (its second run,
/// after one ordinary run that allocates) in CUDA's global capture mode, where another thread's CUDA call that is not
/// capture-safe (an allocation, a synchronous copy, another session's run) makes the capture fail, and with it the
/// fixed-shape path of that engine. The runs of one engine are ordered by its GPU gate; with several engines in one
/// process (<c>Inference:EnginesPerDevice</c>, several GPUs) a run that may capture takes this lock for writing and
/// every other piece of CUDA work takes it for reading (uncontended: tens of nanoseconds).
/// </summary>
public static class CudaGraphCapture
{
    private static readonly ReaderWriterLockSlim Gate = new(LockRecursionPolicy.SupportsRecursion);

    /// <summary>Ordinary device work (a session's run or creation, a copy, an allocation): waits while a capture runs.</summary>
    public static Scope Work()
    {
        Gate.EnterReadLock();
        return new Scope(exclusive: false);
    }

    /// <summary>A run that may capture a graph: waits until no other device work runs, and keeps it out meanwhile.</summary>
    public static Scope Capture()
    {
        Gate.EnterWriteLock();
        return new Scope(exclusive: true);
    }

    /// <summary>Runs of a session with CUDA graphs on before its graph is captured: one ordinary run (allocating), then the capture.</summary>
    private const int RunsUntilCaptured = 2;

    /// <summary>
    /// The scope of one run of a fixed-shape session (counted in <paramref name="runs"/>): alone in the process while the
    /// session may still capture its graph (<paramref name="replaysGraph"/>, its first two runs), ordinary work after.
    /// </summary>
    public static Scope FixedShapeRun(bool replaysGraph, ref int runs) =>
        replaysGraph && runs++ < RunsUntilCaptured ? Capture() : Work();

    /// <summary>Held until disposed (on the thread that took it).</summary>
    public readonly struct Scope(bool exclusive) : IDisposable
    {
        public void Dispose()
        {
            if (exclusive)
                Gate.ExitWriteLock();
            else
                Gate.ExitReadLock();
        }
    }
}
