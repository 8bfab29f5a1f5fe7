using System.Diagnostics;
using DiffusionGallery.Inference.Pipeline;

namespace DiffusionGallery.Inference.Tests.Pipeline;

/// <summary>
/// The engine's own thread for its sessions (ONNX Runtime's CUDA provider keeps per-thread state: a run on a new thread
/// made new handles and captured its CUDA graphs again).
/// </summary>
public sealed class DeviceThreadTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task EveryPieceOfWork_RunsOnTheSameThread_InTheOrderGiven_NotTheCallers()
    {
        using var device = new DeviceThread("test device");
        var threads = new List<int>();
        var order = new List<int>();
        var caller = Environment.CurrentManagedThreadId;

        // from several threads at once (the worker's runs and the Lab call from wherever they are)
        var tasks = Enumerable.Range(0, 20).Select(i => device.RunAsync(() =>
        {
            lock (threads)
            {
                threads.Add(Environment.CurrentManagedThreadId);
                order.Add(i);
            }
            return i * 2;
        })).ToList();
        var results = await Task.WhenAll(tasks).WaitAsync(TimeSpan.FromSeconds(10), Ct);

        Assert.Equal(Enumerable.Range(0, 20).Select(i => i * 2), results);
        Assert.Single(threads.Distinct());
        Assert.NotEqual(caller, threads[0]);
        Assert.Equal(Enumerable.Range(0, 20), order); // queued in this order from one caller
        await Task.Run(() => device.RunAsync(() => Assert.Equal(threads[0], Environment.CurrentManagedThreadId)), Ct);
    }

    [Fact]
    public async Task AFailure_ReachesTheCallerAsItWas_AndTheThreadGoesOn()
    {
        using var device = new DeviceThread("test device");
        using var cancelled = new CancellationTokenSource();
        await cancelled.CancelAsync();

        var failure = await Assert.ThrowsAsync<InvalidOperationException>(() => device.RunAsync(() => throw new InvalidOperationException("cuda says no")));
        Assert.Equal("cuda says no", failure.Message);
        // a cancellation keeps its own message (the engine's "cancelled during an ONNX Runtime call")
        var cancellation = await Assert.ThrowsAnyAsync<OperationCanceledException>(() =>
            device.RunAsync(() => throw new OperationCanceledException("cancelled during an ONNX Runtime call", cancelled.Token)));
        Assert.Equal("cancelled during an ONNX Runtime call", cancellation.Message);
        Assert.Equal(7, await device.RunAsync(() => 7));
    }

    [Fact]
    public async Task Disposing_FinishesTheWorkAlreadyQueued()
    {
        var device = new DeviceThread("test device");
        var gate = new ManualResetEventSlim();
        var first = device.RunAsync(() => gate.Wait(Ct));
        var second = device.RunAsync(() => 2);
        gate.Set();
        device.Dispose();

        await first.WaitAsync(TimeSpan.FromSeconds(10), Ct);
        Assert.Equal(2, await second.WaitAsync(TimeSpan.FromSeconds(10), Ct));
        Assert.Throws<ObjectDisposedException>(() => { _ = device.RunAsync(() => 3); }); // (nothing is taken after disposal)
    }

    [Fact]
    public async Task TheDeviceThread_CountsItsTimeRunningWork_NotItsIdleTime()
    {
        using var thread = new DeviceThread("test side thread");
        Assert.Equal(0, thread.BusyTicks);
        await Task.Delay(100, TestContext.Current.CancellationToken); // idle: not counted
        await thread.RunAsync(() => Thread.Sleep(60));
        await thread.RunAsync(() => Thread.Sleep(60));
        await thread.RunAsync(() => { }); // (a work item's time is added after its task completes: the next one starts after that)

        var busy = TimeSpan.FromSeconds(thread.BusyTicks / (double)Stopwatch.Frequency);
        Assert.InRange(busy, TimeSpan.FromMilliseconds(115), TimeSpan.FromMilliseconds(400));
    }
}
