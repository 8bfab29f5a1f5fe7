using DiffusionGallery.Inference.Noise;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;

namespace DiffusionGallery.Inference.Onnx;

/// <summary>How far one UNet variant's output is from the reference's on the same fixed inputs.</summary>
public sealed record UnetDifference(string Name, double MaxAbsDiff, double MaxAbsReference, double RelativeL2, bool Finite, double Milliseconds)
{
    /// <summary>Set instead of the figures when the candidate could not be run.</summary>
    public string? Error { get; init; }
}

/// <summary>
/// Runs a reference UNet graph (fp32; on CUDA without TF32, so it is true fp32) and candidate variants of it (an fp16
/// conversion, an optimised graph) on the same fixed inputs and reports each candidate's output difference — the check
/// that an fp16 or optimised export still computes what the fp32 export does. Inputs: sample and
/// encoder_hidden_states ~ N(0, 1) from Philox seed 0, timestep 999, each in the element type its graph asks for;
/// one session at a time (the reference is released before the candidates load).
/// </summary>
public static class UnetComparison
{
    public static IReadOnlyList<UnetDifference> Compare(SessionFactory sessions, string referencePath, IReadOnlyList<(string Name, string Path)> candidates,
        int batch = 2, int latentSize = 64, float timestep = 999f)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(batch, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(latentSize, 1);
        foreach (var path in candidates.Select(c => c.Path).Prepend(referencePath))
        {
            if (!File.Exists(path))
                throw new FileNotFoundException($"No UNet graph at {path}.", path);
        }

        var reference = Run(sessions, referencePath, exactFloat: true, batch, latentSize, timestep, out _);
        var referenceNorm = Math.Sqrt(reference.Sum(v => (double)v * v));
        var maxReference = reference.Max(v => Math.Abs((double)v));
        var results = new List<UnetDifference>();
        foreach (var (name, path) in candidates)
        {
            try
            {
                var output = Run(sessions, path, exactFloat: false, batch, latentSize, timestep, out var ms);
                if (output.Length != reference.Length)
                    throw new InvalidOperationException($"its output has {output.Length} values, the reference's {reference.Length}");
                double maxDiff = 0, sumSquares = 0;
                var finite = true;
                for (var i = 0; i < output.Length; i++)
                {
                    finite &= float.IsFinite(output[i]);
                    var d = Math.Abs((double)output[i] - reference[i]);
                    maxDiff = Math.Max(maxDiff, d);
                    sumSquares += d * d;
                }

                results.Add(new UnetDifference(name, maxDiff, maxReference, referenceNorm > 0 ? Math.Sqrt(sumSquares) / referenceNorm : 0, finite, ms));
            }
            catch (Exception ex) when (ex is OnnxRuntimeException or InvalidOperationException or NotSupportedException)
            {
                results.Add(new UnetDifference(name, double.NaN, maxReference, double.NaN, false, 0) { Error = ex.Message.Split('\n')[0] });
            }
        }

        return results;
    }

    private static float[] Run(SessionFactory sessions, string path, bool exactFloat, int batch, int latentSize, float timestep, out double milliseconds)
    {
        using var options = sessions.CreateSessionOptions(exactFloat: exactFloat);
        using var session = new InferenceSession(path, options);
        var buffers = new List<TensorBuffer>();
        try
        {
            var names = new List<string>();
            foreach (var (name, meta) in session.InputMetadata)
            {
                var shape = name switch
                {
                    "sample" => new long[] { batch, Fixed(meta, 1, 4), latentSize, latentSize },
                    "timestep" => meta.Dimensions.Length == 0 ? [] : meta.Dimensions[0] == 1 ? [1] : [batch],
                    "encoder_hidden_states" => new long[] { batch, Fixed(meta, 1, 77), Fixed(meta, 2, 768) },
                    _ => throw new NotSupportedException($"input '{name}' has no fixed value in this comparison"),
                };
                var buffer = new TensorBuffer(meta.ElementDataType, shape);
                if (name == "timestep")
                    buffer.Data.AsSpan().Fill(timestep);
                else
                    new PhiloxNoiseGenerator(name == "sample" ? 0UL : 1UL).Fill(buffer.Data);
                buffer.Upload();
                buffers.Add(buffer);
                names.Add(name);
            }

            using var runOptions = new RunOptions();
            var inputs = buffers.Select(b => b.Value).ToList();
            using (session.Run(runOptions, names, inputs, [session.OutputNames[0]])) { } // warm-up (kernel and algorithm choice)
            var started = System.Diagnostics.Stopwatch.GetTimestamp();
            using var results = session.Run(runOptions, names, inputs, [session.OutputNames[0]]);
            milliseconds = System.Diagnostics.Stopwatch.GetElapsedTime(started).TotalMilliseconds;
            return TensorBuffer.ReadFloats(results[0]);
        }
        finally
        {
            foreach (var buffer in buffers)
                buffer.Dispose();
        }
    }

    private static long Fixed(NodeMetadata meta, int axis, long fallback) =>
        meta.Dimensions.Length > axis && meta.Dimensions[axis] > 0 ? meta.Dimensions[axis] : fallback;
}
