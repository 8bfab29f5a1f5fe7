using DiffusionGallery.Inference.Onnx;
using DiffusionGallery.Inference.Scheduling;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;

namespace DiffusionGallery.Inference.Pipeline;

/// <summary>
/// The latent step graph (tools/step-graph/make_latent_step.py, embedded) in a session of the model's provider: CFG, the
/// denoised prediction, the sampler's linear update (<see cref="Scheduling.LinearStep"/>) and the next UNet input for
/// every row of a fixed-shape UNet at once, reading the UNet's output where it lies and writing the next input into
/// the UNet's own sample tensor — so on CUDA the latents stay in device memory between steps. One per loaded model
/// (<see cref="InferenceOptions.LatentsOnDevice"/>), used by the engine's step-loop thread only.
/// </summary>
internal sealed class LatentStepGraph : IDisposable
{
    /// <summary>Coefficients per row in the graph's <c>coef</c> input.</summary>
    public const int CoefficientsPerRow = 8;

    private readonly InferenceSession _session;
    private readonly OrtIoBinding _binding;
    private long _runs;

    private LatentStepGraph(InferenceSession session, TensorElementType unetType)
    {
        _session = session;
        UnetType = unetType;
        _binding = session.CreateIoBinding();
    }

    /// <summary>Steps run so far (for tests and logs).</summary>
    public long Runs => Interlocked.Read(ref _runs);

    /// <summary>The UNet's output and sample type the graph was made for (float or float16).</summary>
    public TensorElementType UnetType { get; }

    /// <summary>The graph for a UNet whose sample input and output are <paramref name="unetType"/>; null (with why) when there is none.</summary>
    public static LatentStepGraph? TryCreate(SessionFactory factory, TensorElementType unetType, out string? why)
    {
        var suffix = unetType switch
        {
            TensorElementType.Float => "fp32",
            TensorElementType.Float16 => "fp16",
            _ => null,
        };
        why = suffix is null ? $"no latent step graph for a UNet of {unetType}" : null;
        if (suffix is null)
            return null;
        using var stream = typeof(LatentStepGraph).Assembly.GetManifestResourceStream($"DiffusionGallery.Inference.Graphs.latent_step_{suffix}.onnx")
            ?? throw new InvalidOperationException($"The engine lacks its embedded latent_step_{suffix}.onnx.");
        using var copy = new MemoryStream();
        stream.CopyTo(copy);
        LatentStepGraph graph;
        using (CudaGraphCapture.Work())
        {
            using var options = factory.CreateSessionOptions(cudaGraph: false);
            graph = new LatentStepGraph(new InferenceSession(copy.ToArray(), options), unetType);
        }

        try
        {
            why = graph.Check();
        }
        catch (OnnxRuntimeException ex)
        {
            why = $"the latent step graph did not run on {factory.Provider}: {ex.Message.Split('\n')[0]}";
        }

        if (why is null)
            return graph;
        graph.Dispose();
        return null;
    }

    /// <summary>
    /// Runs the graph once on known values — a CFG pair (guidance 3) and a lone row — in host tensors (a CUDA session
    /// copies them in and out) and compares with <see cref="LinearStep.Apply"/>: a provider that cannot run the graph, or
    /// runs it wrongly, is found when the model loads instead of in someone's run. Null when it matches, else why not.
    /// </summary>
    private string? Check()
    {
        const int rows = 3, values = 2;
        long[] shape = [rows, 1, 1, values];
        float[] output = [0.5f, -1f, 1.5f, 0.25f, -0.75f, 2f];
        float[] x = [1f, -2f, 1f, -2f, 0.5f, 3f];
        float[] previous = [0.2f, 0.4f, 0.2f, 0.4f, -1f, 0.1f];
        long[] uncond = [0, 0, 2], cond = [1, 1, 2];
        var step = new LinearStep(1.2, -0.7, 0.9, -0.3, 0.15);
        const double inScale = 0.5;
        var coefficients = new double[rows * CoefficientsPerRow];
        for (var r = 0; r < rows; r++)
        {
            double[] row = [r < 2 ? 3 : 1, step.CSkip, step.COut, step.BX, step.BD, step.BP, inScale, 0];
            row.CopyTo(coefficients, r * CoefficientsPerRow);
        }

        var half = UnetType == TensorElementType.Float16;
        var nextX = new float[rows * values];
        var denoised = new float[rows * values];
        var sample = new float[rows * values];
        var sampleHalf = new Float16[rows * values];
        using (var outputValue = half
                   ? OrtValue.CreateTensorValueFromMemory(output.Select(v => (Float16)v).ToArray(), shape)
                   : OrtValue.CreateTensorValueFromMemory(output, shape))
        using (var xValue = OrtValue.CreateTensorValueFromMemory(x, shape))
        using (var previousValue = OrtValue.CreateTensorValueFromMemory(previous, shape))
        using (var uncondValue = OrtValue.CreateTensorValueFromMemory(uncond, [rows]))
        using (var condValue = OrtValue.CreateTensorValueFromMemory(cond, [rows]))
        using (var coefficientsValue = OrtValue.CreateTensorValueFromMemory(coefficients, [rows, CoefficientsPerRow]))
        using (var nextXValue = OrtValue.CreateTensorValueFromMemory(nextX, shape))
        using (var denoisedValue = OrtValue.CreateTensorValueFromMemory(denoised, shape))
        using (var sampleValue = half ? OrtValue.CreateTensorValueFromMemory(sampleHalf, shape) : OrtValue.CreateTensorValueFromMemory(sample, shape))
        using (var runOptions = new RunOptions())
        {
            RunCore(runOptions, outputValue, xValue, previousValue, uncondValue, condValue, coefficientsValue, nextXValue, denoisedValue, sampleValue);
        }

        if (half)
            sample = sampleHalf.Select(v => (float)v).ToArray();
        var tolerance = half ? 1e-2 : 1e-5;
        for (var r = 0; r < rows; r++)
        {
            for (var i = 0; i < values; i++)
            {
                var k = r * values + i;
                var (u, c) = (output[(int)uncond[r] * values + i], output[(int)cond[r] * values + i]);
                var s = (float)coefficients[r * CoefficientsPerRow];
                var guided = u + s * (c - u);
                var (d, next) = step.Apply(x[k], guided, previous[k]);
                if (Math.Abs(denoised[k] - d) > 1e-5 || Math.Abs(nextX[k] - next) > 1e-5 || Math.Abs(sample[k] - next * (float)inScale) > tolerance)
                    return $"the latent step graph's check failed at row {r}: denoised {denoised[k]} / x {nextX[k]} / sample {sample[k]}, "
                        + $"expected {d} / {next} / {next * inScale}";
            }
        }

        return null;
    }

    /// <summary>
    /// One step for the first <c>rows</c> rows of every tensor: from the UNet's <paramref name="modelOutput"/> and the
    /// latents <paramref name="x"/> / previous denoised <paramref name="previous"/> into <paramref name="nextX"/>,
    /// <paramref name="denoised"/> and the UNet's <paramref name="sample"/>. <paramref name="uncondRow"/>,
    /// <paramref name="condRow"/> and <paramref name="coefficients"/> are host values of the same rows (copied in when
    /// bound). Complete on return.
    /// </summary>
    public void Run(RunOptions runOptions, OrtValue modelOutput, OrtValue x, OrtValue previous, OrtValue uncondRow, OrtValue condRow,
        OrtValue coefficients, OrtValue nextX, OrtValue denoised, OrtValue sample)
    {
        RunCore(runOptions, modelOutput, x, previous, uncondRow, condRow, coefficients, nextX, denoised, sample);
        Interlocked.Increment(ref _runs);
    }

    private void RunCore(RunOptions runOptions, OrtValue modelOutput, OrtValue x, OrtValue previous, OrtValue uncondRow, OrtValue condRow,
        OrtValue coefficients, OrtValue nextX, OrtValue denoised, OrtValue sample)
    {
        using var work = CudaGraphCapture.Work();
        _binding.ClearBoundInputs();
        _binding.ClearBoundOutputs();
        _binding.BindInput("model_out", modelOutput);
        _binding.BindInput("x", x);
        _binding.BindInput("prev", previous);
        _binding.BindInput("uncond_row", uncondRow);
        _binding.BindInput("cond_row", condRow);
        _binding.BindInput("coef", coefficients);
        _binding.BindOutput("x_next", nextX);
        _binding.BindOutput("denoised", denoised);
        _binding.BindOutput("sample", sample);
        _session.RunWithBinding(runOptions, _binding);
        _binding.SynchronizeBoundOutputs();
    }

    public void Dispose()
    {
        _binding.Dispose();
        _session.Dispose();
    }
}
