using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;

namespace DiffusionGallery.Inference.Onnx;

/// <summary>Human-readable tensor shapes and element types for messages and the <c>info</c> command.</summary>
public static class TensorText
{
    /// <summary>"B,4,h,w"-style shape: fixed sizes as numbers, dynamic ones by their symbolic name or "?".</summary>
    public static string Shape(NodeMetadata meta) =>
        string.Join(",", meta.Dimensions.Select((d, i) => d >= 0 ? d.ToString(System.Globalization.CultureInfo.InvariantCulture)
            : meta.SymbolicDimensions.Length > i && meta.SymbolicDimensions[i].Length > 0 ? meta.SymbolicDimensions[i] : "?"));

    public static string ElementType(TensorElementType type) => type switch
    {
        TensorElementType.Float => "float32",
        TensorElementType.Float16 => "float16",
        TensorElementType.Int64 => "int64",
        TensorElementType.Int32 => "int32",
        _ => type.ToString().ToLowerInvariant(),
    };
}
