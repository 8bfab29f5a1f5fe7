using System.Runtime.InteropServices;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;

namespace DiffusionGallery.Inference.Onnx;

/// <summary>
/// A pre-allocated tensor bound to an <see cref="OrtValue"/> for the whole job. The engine always works on
/// <see cref="Data"/> (float); when the graph wants fp16, int32 or int64, <see cref="Upload"/> /
/// <see cref="Download"/> convert into or out of a typed twin buffer. For float graphs no copy happens.
/// </summary>
internal sealed class TensorBuffer : IDisposable
{
    private readonly Float16[]? _half;
    private readonly long[]? _int64;
    private readonly int[]? _int32;

    public TensorBuffer(TensorElementType elementType, long[] shape)
    {
        ElementType = elementType;
        Shape = shape;
        var length = checked((int)shape.Aggregate(1L, (a, b) => a * b));
        Data = new float[length];
        Value = elementType switch
        {
            TensorElementType.Float => OrtValue.CreateTensorValueFromMemory(Data, shape),
            TensorElementType.Float16 => OrtValue.CreateTensorValueFromMemory(_half = new Float16[length], shape),
            TensorElementType.Int64 => OrtValue.CreateTensorValueFromMemory(_int64 = new long[length], shape),
            TensorElementType.Int32 => OrtValue.CreateTensorValueFromMemory(_int32 = new int[length], shape),
            _ => throw new NotSupportedException($"tensor element type {elementType} is not supported"),
        };
    }

    public TensorElementType ElementType { get; }
    public long[] Shape { get; }
    public float[] Data { get; }
    public OrtValue Value { get; }

    /// <summary>Copies <see cref="Data"/> into the typed buffer the graph reads (no-op for float).</summary>
    public void Upload()
    {
        if (_half is not null)
        {
            HalfConversion.ToHalf(Data, _half);
        }
        else if (_int64 is not null)
        {
            for (var i = 0; i < Data.Length; i++)
                _int64[i] = (long)Math.Round(Data[i]);
        }
        else if (_int32 is not null)
        {
            for (var i = 0; i < Data.Length; i++)
                _int32[i] = (int)Math.Round(Data[i]);
        }
    }

    /// <summary>Copies a graph-written typed buffer back into <see cref="Data"/> (no-op for float).</summary>
    public void Download()
    {
        if (_half is not null)
            HalfConversion.ToSingle(_half, Data);
    }

    /// <summary>The graph-typed bytes: what <see cref="Upload"/> wrote, and what <see cref="Download"/> reads.</summary>
    public Span<byte> TypedBytes =>
        _half is not null ? MemoryMarshal.AsBytes(_half.AsSpan())
        : _int64 is not null ? MemoryMarshal.AsBytes(_int64.AsSpan())
        : _int32 is not null ? MemoryMarshal.AsBytes(_int32.AsSpan())
        : MemoryMarshal.AsBytes(Data.AsSpan());

    public void Dispose() => Value.Dispose();

    /// <summary>Reads any float or fp16 ORT-allocated output as floats.</summary>
    public static float[] ReadFloats(OrtValue value)
    {
        var info = value.GetTensorTypeAndShape();
        return info.ElementDataType switch
        {
            TensorElementType.Float => value.GetTensorDataAsSpan<float>().ToArray(),
            TensorElementType.Float16 => ConvertHalf(value.GetTensorDataAsSpan<Float16>()),
            _ => throw new NotSupportedException($"output element type {info.ElementDataType} is not float or float16"),
        };
    }

    private static float[] ConvertHalf(ReadOnlySpan<Float16> half)
    {
        var result = new float[half.Length];
        HalfConversion.ToSingle(half, result);
        return result;
    }
}
