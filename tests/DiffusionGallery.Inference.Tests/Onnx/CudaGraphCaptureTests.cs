using DiffusionGallery.Inference.Onnx;

namespace DiffusionGallery.Inference.Tests.Onnx;

/// <summary>
/// The process-wide gate that keeps CUDA graph captures alone (two engines in one process broke each other's captures
/// on an H100: the second engine's fixed-shape path was turned off and its UNet ran 3–10× slower).
/// </summary>
public sealed class CudaGraphCaptureTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task ACapture_WaitsForWorkInFlight_AndKeepsNewWorkOutUntilItEnds()
    {
        var order = new List<string>();
        var (work, workEntered, releaseWork) = Hold(CudaGraphCapture.Work, "work", order);
        await workEntered.WaitAsync(Ct);
        var (capture, captureEntered, releaseCapture) = Hold(CudaGraphCapture.Capture, "capture", order);
        await Task.Delay(100, Ct);
        Assert.False(captureEntered.IsCompleted, "the capture waited for the work in flight");
        releaseWork.SetResult();
        await captureEntered.WaitAsync(TimeSpan.FromSeconds(10), Ct);
        var later = Task.Run(() =>
        {
            using (CudaGraphCapture.Work())
                lock (order) order.Add("later work");
        }, Ct);
        await Task.Delay(100, Ct);
        Assert.False(later.IsCompleted, "new work waited for the capture");
        releaseCapture.SetResult();
        await Task.WhenAll(work, capture, later).WaitAsync(TimeSpan.FromSeconds(10), Ct);

        Assert.Equal(["work", "work ends", "capture", "capture ends", "later work"], order);
    }

    /// <summary>Takes the gate on another thread and holds it until released; notes when it entered and left.</summary>
    private static (Task Done, Task Entered, TaskCompletionSource Release) Hold(Func<CudaGraphCapture.Scope> take, string name, List<string> order)
    {
        var entered = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var done = Task.Run(() =>
        {
            using (take())
            {
                lock (order) order.Add(name);
                entered.SetResult();
                release.Task.Wait(Ct);
                lock (order) order.Add($"{name} ends");
            }
        }, Ct);
        return (done, entered.Task, release);
    }

    [Theory]
    [InlineData(true, new[] { true, true, false, false })] // one ordinary run, the capture, then replays
    [InlineData(false, new[] { false, false, false, false })] // a session without a graph never captures
    public async Task AFixedShapeSession_RunsAloneUntilItsGraphIsCaptured(bool replaysGraph, bool[] alone)
    {
        var others = new List<Task>();
        var seen = await Task.Run(() => RunsAlone(replaysGraph, alone.Length, others), Ct); // (a scope is held and released on one thread)

        await Task.WhenAll(others).WaitAsync(TimeSpan.FromSeconds(10), Ct); // work that waited got in after the run
        Assert.Equal(alone, seen);
    }

    /// <summary>For each of <paramref name="count"/> runs of one session: whether ordinary work on another thread was kept out during it.</summary>
    private static bool[] RunsAlone(bool replaysGraph, int count, List<Task> others)
    {
        var runs = 0;
        var seen = new bool[count];
        for (var i = 0; i < count; i++)
        {
            using (CudaGraphCapture.FixedShapeRun(replaysGraph, ref runs))
            {
                var other = Task.Run(() => { using (CudaGraphCapture.Work()) { } }, Ct);
                others.Add(other);
                seen[i] = !other.Wait(200, Ct);
            }
        }

        return seen;
    }

    [Fact]
    public void WorkInsideACapture_OnTheSameThread_DoesNotWait()
    {
        // (a capturing run copies its inputs and may allocate: ordinary work inside its own capture)
        using (CudaGraphCapture.Capture())
        using (CudaGraphCapture.Work())
        using (CudaGraphCapture.Work())
        {
        }

        using (CudaGraphCapture.Work()) // and the gate is free again afterwards
        {
        }
    }
}
