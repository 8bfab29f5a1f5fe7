using Microsoft.ML.OnnxRuntime;

namespace DiffusionGallery.Inference.Onnx;

/// <summary>Pinning a graph's symbolic dimensions to one shape (fixed-shape sessions: ONNX Runtime folds the shape arithmetic away).</summary>
internal static class FixedShapes
{
    /// <summary>
    /// Each symbolic dimension name of <paramref name="graph"/>'s inputs (and <paramref name="output"/>'s, unless null:
    /// a graph whose output dimensions reuse its inputs' names for other sizes, as the VAE decoder's height and width,
    /// has them derived from the inputs instead) with the value the given shapes give it. Throws <see cref="NotSupportedException"/> for a dynamic dimension without a name, a rank
    /// that differs, or a name that two shapes would give different values.
    /// </summary>
    public static Dictionary<string, long> PinnedDimensions(OnnxGraph graph, IReadOnlyDictionary<string, long[]> inputs, string? output = null,
        long[]? outputShape = null)
    {
        var pinned = new Dictionary<string, long>(StringComparer.Ordinal);
        void Pin(string what, NodeMetadata meta, long[] values)
        {
            if (meta.Dimensions.Length != values.Length)
                throw new NotSupportedException($"{what} has {meta.Dimensions.Length} dimensions; expected {values.Length}");
            for (var i = 0; i < values.Length; i++)
            {
                if (meta.Dimensions[i] > 0)
                    continue;
                var name = meta.SymbolicDimensions[i];
                if (string.IsNullOrEmpty(name))
                    throw new NotSupportedException($"dimension {i} of {what} is dynamic without a name, so it cannot be pinned");
                if (pinned.TryGetValue(name, out var earlier) && earlier != values[i])
                    throw new NotSupportedException($"dimension '{name}' would be both {earlier} and {values[i]}");
                pinned[name] = values[i];
            }
        }

        foreach (var (name, values) in inputs)
            Pin(name, graph.Inputs[name], values);
        if (output is not null && outputShape is not null)
            Pin(output, graph.Outputs[output], outputShape);
        return pinned;
    }
}
