using System.Runtime.InteropServices;

namespace DiffusionGallery.Inference.Onnx;

/// <summary>
/// The few CUDA runtime calls the CUDA-graph path needs (device buffers at fixed addresses, copies in and out), from
/// the <c>libcudart</c> that ONNX Runtime's CUDA provider loads anyway. <see cref="TryLoad"/> says why it cannot be
/// used instead of throwing, so the engine can fall back to its ordinary path.
/// </summary>
internal static class CudaRuntime
{
    private const int MemcpyHostToDevice = 1;
    private const int MemcpyDeviceToHost = 2;
    // ONNX Runtime 1.31 for Linux is built for CUDA 13: its runtime first, so both use the same one
    private static readonly string[] Candidates = ["libcudart.so.13", "libcudart.so.12", "libcudart.so", "cudart64_13.dll", "cudart64_12.dll"];
    private static readonly Lazy<(Api? Api, string? Error)> Loaded = new(Load);

    private unsafe sealed class Api(IntPtr library)
    {
        public readonly delegate* unmanaged<int, int> SetDevice = (delegate* unmanaged<int, int>)NativeLibrary.GetExport(library, "cudaSetDevice");
        public readonly delegate* unmanaged<IntPtr*, nuint, int> Malloc = (delegate* unmanaged<IntPtr*, nuint, int>)NativeLibrary.GetExport(library, "cudaMalloc");
        public readonly delegate* unmanaged<IntPtr, int> Free = (delegate* unmanaged<IntPtr, int>)NativeLibrary.GetExport(library, "cudaFree");
        public readonly delegate* unmanaged<IntPtr, int, nuint, int> Memset = (delegate* unmanaged<IntPtr, int, nuint, int>)NativeLibrary.GetExport(library, "cudaMemset");
        public readonly delegate* unmanaged<int> DeviceSynchronize = (delegate* unmanaged<int>)NativeLibrary.GetExport(library, "cudaDeviceSynchronize");
        public readonly delegate* unmanaged<IntPtr, IntPtr, nuint, int, int> Memcpy = (delegate* unmanaged<IntPtr, IntPtr, nuint, int, int>)NativeLibrary.GetExport(library, "cudaMemcpy");
    }

    /// <summary>Whether the CUDA runtime library is loadable; <paramref name="error"/> says why not.</summary>
    public static bool TryLoad(out string? error)
    {
        error = Loaded.Value.Error;
        return Loaded.Value.Api is not null;
    }

    private static (Api?, string?) Load()
    {
        foreach (var name in Candidates)
        {
            if (!NativeLibrary.TryLoad(name, typeof(CudaRuntime).Assembly, null, out var handle))
                continue;
            try
            {
                return (new Api(handle), null);
            }
            catch (EntryPointNotFoundException ex)
            {
                return (null, $"{name} lacks {ex.Message}");
            }
        }

        return (null, $"none of {string.Join(", ", Candidates)} could be loaded");
    }

    private static Api Require() => Loaded.Value.Api ?? throw new InvalidOperationException($"The CUDA runtime is not available: {Loaded.Value.Error}.");

    private static void Check(int status, string call)
    {
        if (status != 0)
            throw new InvalidOperationException($"{call} failed with CUDA error {status}.");
    }

    /// <summary>Allocates <paramref name="bytes"/> of zeroed memory on <paramref name="device"/>.</summary>
    public static unsafe IntPtr Allocate(int device, long bytes)
    {
        var api = Require();
        using var work = CudaGraphCapture.Work();
        Check(api.SetDevice(device), "cudaSetDevice");
        IntPtr pointer;
        Check(api.Malloc(&pointer, (nuint)bytes), "cudaMalloc");
        Check(api.Memset(pointer, 0, (nuint)bytes), "cudaMemset");
        Check(api.DeviceSynchronize(), "cudaDeviceSynchronize");
        return pointer;
    }

    public static unsafe void Free(IntPtr pointer)
    {
        if (pointer == IntPtr.Zero || Loaded.Value.Api is not { } api)
            return;
        using var work = CudaGraphCapture.Work();
        api.Free(pointer);
    }

    /// <summary>
    /// Copy from host memory to the device, complete on return: from pageable memory cudaMemcpy may return before
    /// its DMA lands, and ONNX Runtime's own (non-blocking) stream would not wait for it.
    /// </summary>
    public static unsafe void CopyToDevice(int device, ReadOnlySpan<byte> source, IntPtr destination)
    {
        var api = Require();
        using var work = CudaGraphCapture.Work();
        Check(api.SetDevice(device), "cudaSetDevice");
        fixed (byte* from = source)
            Check(api.Memcpy(destination, (IntPtr)from, (nuint)source.Length, MemcpyHostToDevice), "cudaMemcpy (to device)");
        Check(api.DeviceSynchronize(), "cudaDeviceSynchronize");
    }

    /// <summary>Synchronous copy from the device to host memory.</summary>
    public static unsafe void CopyToHost(int device, IntPtr source, Span<byte> destination)
    {
        var api = Require();
        using var work = CudaGraphCapture.Work();
        Check(api.SetDevice(device), "cudaSetDevice");
        fixed (byte* to = destination)
            Check(api.Memcpy((IntPtr)to, source, (nuint)destination.Length, MemcpyDeviceToHost), "cudaMemcpy (to host)");
    }
}
