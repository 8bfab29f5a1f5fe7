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
        var workEntered = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var releaseWork = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var captureEntered = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var releaseCapture = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

        var work = Task.Run(() =>
        {
            using (CudaGraphCapture.Work())
            {
                lock (order) order.Add("work");
                workEntered.SetResult();
                releaseWork.Task.Wait(Ct);
                lock (order) order.Add("work ends");
            }
        }, Ct);
        await workEntered.Task.WaitAsync(Ct);
        var capture = Task.Run(() =>
        {
            using (CudaGraphCapture.Capture())
            {
                lock (order) order.Add("capture");
                captureEntered.SetResult();
                releaseCapture.Task.Wait(Ct);
                lock (order) order.Add("capture ends");
            }
        }, Ct);
        await Task.Delay(100, Ct);
        Assert.False(captureEntered.Task.IsCompleted, "the capture waited for the work in flight");
        releaseWork.SetResult();
        await captureEntered.Task.WaitAsync(TimeSpan.FromSeconds(10), Ct);
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
