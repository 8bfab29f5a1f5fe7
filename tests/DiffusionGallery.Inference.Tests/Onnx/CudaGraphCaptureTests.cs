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
