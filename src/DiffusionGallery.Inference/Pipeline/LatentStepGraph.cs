using DiffusionGallery.Inference.Onnx;
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
        using var work = CudaGraphCapture.Work();
        using var options = factory.CreateSessionOptions(cudaGraph: false);
        return new LatentStepGraph(new InferenceSession(copy.ToArray(), options), unetType);
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
        Interlocked.Increment(ref _runs);
    }

    public void Dispose()
    {
        _binding.Dispose();
        _session.Dispose();
    }
}
