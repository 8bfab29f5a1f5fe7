using System.Collections.Concurrent;
using System.Diagnostics;

namespace DiffusionGallery.Inference.Pipeline;

/// <summary>
/// The one thread on which an engine runs its sessions. ONNX Runtime's CUDA provider keeps state per thread (cuBLAS and
/// cuDNN handles, and a fixed-shape session's captured CUDA graph with its count of runs before capture): runs that
/// moved between thread-pool threads made that state again on each new thread — a capture outside
/// <see cref="Onnx.CudaGraphCapture"/>'s exclusive lock, which failed when another engine worked meanwhile (cuBLAS
/// "internal operation failed", then CUDA error 900 in every later call). On one thread, each shape is captured once.
/// </summary>
internal sealed class DeviceThread : IDisposable
{
    private readonly BlockingCollection<Action> _work = new();
    private readonly Thread _thread;
    private bool _disposed;
    private long _busyTicks;

    /// <summary>The thread's time running work so far (<see cref="Stopwatch"/> ticks; read from any thread).</summary>
    public long BusyTicks => Interlocked.Read(ref _busyTicks);

    public DeviceThread(string name)
    {
        _thread = new Thread(Loop) { IsBackground = true, Name = name };
        _thread.Start();
    }

    /// <summary>Runs <paramref name="work"/> on the thread after the work queued before it; awaiting it rethrows what it threw.</summary>
    public Task<T> RunAsync<T>(Func<T> work)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        var done = new TaskCompletionSource<T>(TaskCreationOptions.RunContinuationsAsynchronously);
        _work.Add(() =>
        {
            try
            {
                done.SetResult(work());
            }
            catch (Exception ex) // (a cancellation too: awaiting rethrows the exception itself, with its message)
            {
                done.SetException(ex);
            }
        });
        return done.Task;
    }

    public Task RunAsync(Action work) => RunAsync(() =>
    {
        work();
        return true;
    });

    private void Loop()
    {
        foreach (var work in _work.GetConsumingEnumerable())
        {
            var start = Stopwatch.GetTimestamp();
            work();
            Interlocked.Add(ref _busyTicks, Stopwatch.GetTimestamp() - start);
        }
    }

    /// <summary>Lets the work already queued finish, then ends the thread.</summary>
    public void Dispose()
    {
        if (_disposed)
            return;
        _disposed = true;
        _work.CompleteAdding();
        if (Thread.CurrentThread != _thread)
            _thread.Join();
        _work.Dispose();
    }
}
