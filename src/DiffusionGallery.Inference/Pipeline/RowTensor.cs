using System.Runtime.InteropServices;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;

namespace DiffusionGallery.Inference.Pipeline;

/// <summary>
/// A tensor allocated once for the largest batch of a shared run ([capacity, …row shape]) whose first
/// <c>rows</c> rows are handed to ONNX Runtime as a view: as items leave or join, the UNet call shrinks or grows
/// without allocating buffers or copying. Float tensors are zero-copy (the graph reads <see cref="Data"/>);
/// fp16 and integer tensors convert only the rows in use. Views are created once per row count and cached.
/// </summary>
internal sealed class RowTensor : IDisposable
{
    private readonly long[] _rowShape;
    private readonly Float16[]? _half;
    private readonly long[]? _int64;
    private readonly int[]? _int32;
    private readonly Dictionary<int, OrtValue> _views = new();

    /// <param name="rowShape">The shape of one row; with <paramref name="scalar"/>, the whole (one-element) tensor's shape.</param>
    public RowTensor(TensorElementType elementType, int capacity, long[] rowShape, bool scalar = false)
    {
        ElementType = elementType;
        Scalar = scalar;
        _rowShape = rowShape;
        RowLength = checked((int)rowShape.Aggregate(1L, (a, b) => a * b));
        var length = scalar ? 1 : checked(capacity * RowLength);
        Data = new float[length];
        switch (elementType)
        {
            case TensorElementType.Float:
                break;
            case TensorElementType.Float16:
                _half = new Float16[length];
                break;
            case TensorElementType.Int64:
                _int64 = new long[length];
                break;
            case TensorElementType.Int32:
                _int32 = new int[length];
                break;
            default:
                throw new NotSupportedException($"tensor element type {elementType} is not supported");
        }
    }

    public TensorElementType ElementType { get; }
    public bool Scalar { get; }
    public int RowLength { get; }
    /// <summary>All rows as floats (what the pipeline reads and writes).</summary>
    public float[] Data { get; }

    /// <summary>The span of one row of <see cref="Data"/>.</summary>
    public Span<float> Row(int row) => Data.AsSpan(row * RowLength, RowLength);

    /// <summary>An OrtValue over the first <paramref name="rows"/> rows (cached; disposed with this object).</summary>
    public OrtValue View(int rows)
    {
        if (Scalar)
            rows = 0;
        if (_views.TryGetValue(rows, out var view))
            return view;
        long[] shape = Scalar ? _rowShape : [rows, .. _rowShape];
        var length = Scalar ? 1 : rows * RowLength;
        view = ElementType switch
        {
            TensorElementType.Float => OrtValue.CreateTensorValueFromMemory(OrtMemoryInfo.DefaultInstance, Data.AsMemory(0, length), shape),
            TensorElementType.Float16 => OrtValue.CreateTensorValueFromMemory(OrtMemoryInfo.DefaultInstance, _half.AsMemory(0, length), shape),
            TensorElementType.Int64 => OrtValue.CreateTensorValueFromMemory(OrtMemoryInfo.DefaultInstance, _int64.AsMemory(0, length), shape),
            _ => OrtValue.CreateTensorValueFromMemory(OrtMemoryInfo.DefaultInstance, _int32.AsMemory(0, length), shape),
        };
        _views[rows] = view;
        return view;
    }

    /// <summary>The graph-typed bytes of the first <paramref name="rows"/> rows (what <see cref="Upload"/> wrote).</summary>
    public Span<byte> TypedBytes(int rows)
    {
        var length = Scalar ? 1 : rows * RowLength;
        return ElementType switch
        {
            TensorElementType.Float => MemoryMarshal.AsBytes(Data.AsSpan(0, length)),
            TensorElementType.Float16 => MemoryMarshal.AsBytes(_half.AsSpan(0, length)),
            TensorElementType.Int64 => MemoryMarshal.AsBytes(_int64.AsSpan(0, length)),
            _ => MemoryMarshal.AsBytes(_int32.AsSpan(0, length)),
        };
    }

    /// <summary>The graph-typed bytes of the rows in <paramref name="range"/>.</summary>
    public Span<byte> TypedBytes(RowRange range) => TypedBytes(range.Start + range.Count)[ByteOffset(range.Start)..];

    /// <summary>Where <paramref name="row"/> starts in the graph-typed bytes.</summary>
    public int ByteOffset(int row) => TypedBytes(row).Length;

    /// <summary>Converts the first <paramref name="rows"/> rows into the typed buffer the graph reads (no-op for float).</summary>
    public void Upload(int rows) => Upload(0, rows);

    /// <summary>Converts <paramref name="count"/> rows from <paramref name="firstRow"/> into the typed buffer (no-op for float).</summary>
    public void Upload(int firstRow, int count)
    {
        var (start, length) = Scalar ? (0, 1) : (firstRow * RowLength, count * RowLength);
        if (_half is not null)
        {
            Onnx.HalfConversion.ToHalf(Data.AsSpan(start, length), _half.AsSpan(start, length));
        }
        else if (_int64 is not null)
        {
            for (var i = start; i < start + length; i++)
                _int64[i] = (long)Math.Round(Data[i]);
        }
        else if (_int32 is not null)
        {
            for (var i = start; i < start + length; i++)
                _int32[i] = (int)Math.Round(Data[i]);
        }
    }

    /// <summary>Converts the first <paramref name="rows"/> graph-written rows back into <see cref="Data"/> (no-op for float).</summary>
    public void Download(int rows)
    {
        if (_half is null)
            return;
        var length = rows * RowLength;
        Onnx.HalfConversion.ToSingle(_half.AsSpan(0, length), Data.AsSpan(0, length));
    }

    public void Dispose()
    {
        foreach (var view in _views.Values)
            view.Dispose();
        _views.Clear();
    }
}
