using System.Runtime.InteropServices;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;

namespace DiffusionGallery.Inference.Onnx;

/// <summary>
/// A tensor of one fixed shape at one fixed address, zeroed when made: in CUDA memory for a session that replays a
/// CUDA graph (the graph reads and writes the addresses it was captured with), or in native host memory for the same
/// path on the CPU. Its content is replaced by copying bytes in (<see cref="Write"/>) and read by copying bytes out
/// (<see cref="Read"/>); the bound <see cref="Value"/> never changes.
/// </summary>
internal sealed unsafe class FixedTensor : IDisposable
{
    private readonly int? _cudaDevice;
    private readonly TensorElementType _elementType;
    private readonly Dictionary<long, OrtValue> _views = [];
    private IntPtr _data;

    public FixedTensor(TensorElementType elementType, long[] shape, int? cudaDevice)
    {
        _cudaDevice = cudaDevice;
        _elementType = elementType;
        Shape = shape;
        ByteLength = shape.Aggregate(1L, (a, b) => a * b) * ElementSize(elementType);
        if (cudaDevice is { } device)
        {
            _data = CudaRuntime.Allocate(device, ByteLength);
            using var info = new OrtMemoryInfo("Cuda", OrtAllocatorType.DeviceAllocator, device, OrtMemType.Default);
            Value = OrtValue.CreateTensorValueWithData(info, elementType, shape, _data, ByteLength);
        }
        else
        {
            _data = (IntPtr)NativeMemory.AllocZeroed((nuint)ByteLength);
            Value = OrtValue.CreateTensorValueWithData(OrtMemoryInfo.DefaultInstance, elementType, shape, _data, ByteLength);
        }
    }

    public long[] Shape { get; }
    public long ByteLength { get; }
    public OrtValue Value { get; }

    /// <summary>Copies <paramref name="bytes"/> into the tensor from byte <paramref name="offset"/> on (the rest keeps what it held).</summary>
    public void Write(ReadOnlySpan<byte> bytes, long offset = 0)
    {
        if (offset < 0 || bytes.Length > ByteLength - offset)
            throw new ArgumentOutOfRangeException(nameof(bytes), $"{bytes.Length} bytes at {offset} do not fit a tensor of {ByteLength}.");
        var target = _data + (nint)offset;
        if (_cudaDevice is { } device)
            CudaRuntime.CopyToDevice(device, bytes, target);
        else
            bytes.CopyTo(new Span<byte>((void*)target, bytes.Length));
    }

    /// <summary>Copies <c>destination.Length</c> bytes of the tensor out, from byte <paramref name="offset"/> on.</summary>
    public void Read(Span<byte> destination, long offset = 0)
    {
        if (offset < 0 || destination.Length > ByteLength - offset)
            throw new ArgumentOutOfRangeException(nameof(destination), $"{destination.Length} bytes at {offset} are more than the tensor's {ByteLength}.");
        var source = _data + (nint)offset;
        if (_cudaDevice is { } device)
            CudaRuntime.CopyToHost(device, source, destination);
        else
            new ReadOnlySpan<byte>((void*)source, destination.Length).CopyTo(destination);
    }

    /// <summary>
    /// The tensor's first <paramref name="rows"/> rows (along its first dimension) as a value of their own over the same
    /// memory (cached; disposed with the tensor): a graph of a smaller batch reads or writes them in place.
    /// </summary>
    public OrtValue View(long rows)
    {
        if (rows < 1 || rows > Shape[0])
            throw new ArgumentOutOfRangeException(nameof(rows), $"{rows} rows of a tensor of {Shape[0]}.");
        if (rows == Shape[0])
            return Value;
        if (_views.TryGetValue(rows, out var view))
            return view;
        long[] shape = [rows, .. Shape[1..]];
        var bytes = ByteLength / Shape[0] * rows;
        using var info = _cudaDevice is { } device
            ? new OrtMemoryInfo("Cuda", OrtAllocatorType.DeviceAllocator, device, OrtMemType.Default)
            : null;
        view = OrtValue.CreateTensorValueWithData(info ?? OrtMemoryInfo.DefaultInstance, _elementType, shape, _data, bytes);
        _views[rows] = view;
        return view;
    }

    private static int ElementSize(TensorElementType type) => type switch
    {
        TensorElementType.Float or TensorElementType.Int32 => 4,
        TensorElementType.Float16 => 2,
        TensorElementType.Int64 => 8,
        _ => throw new NotSupportedException($"tensor element type {type} is not supported"),
    };

    public void Dispose()
    {
        foreach (var view in _views.Values)
            view.Dispose();
        _views.Clear();
        Value.Dispose();
        if (_data == IntPtr.Zero)
            return;
        if (_cudaDevice is null)
            NativeMemory.Free((void*)_data);
        else
            CudaRuntime.Free(_data);
        _data = IntPtr.Zero;
    }
}
