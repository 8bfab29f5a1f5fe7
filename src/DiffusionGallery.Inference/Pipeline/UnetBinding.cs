using Microsoft.ML.OnnxRuntime;

namespace DiffusionGallery.Inference.Pipeline;

/// <summary>
/// The UNet's inputs and output bound once through an <see cref="OrtIoBinding"/> for a shared run's step loop.
/// What stays the same while a run's members do (the text embeddings, LCM's guidance embedding, the output buffer) is
/// bound by <see cref="BindPerLayout"/> — on CUDA that is when ONNX Runtime copies it to the device, once instead of at
/// every step; the latents and the timestep change every step and are bound again by <see cref="Run"/>. On the CPU
/// every binding is the pipeline's own memory, without a copy.
/// </summary>
internal sealed class UnetBinding(InferenceSession session, string outputName) : IDisposable
{
    private readonly OrtIoBinding _binding = session.CreateIoBinding();

    /// <summary>Binds the values that change only when members join or leave.</summary>
    public void BindPerLayout(OrtValue hiddenStates, OrtValue? timestepCond, OrtValue output)
    {
        _binding.ClearBoundInputs();
        _binding.ClearBoundOutputs();
        _binding.BindInput("encoder_hidden_states", hiddenStates);
        if (timestepCond is not null)
            _binding.BindInput("timestep_cond", timestepCond);
        _binding.BindOutput(outputName, output);
    }

    /// <summary>One UNet call on this step's latents and timestep; the output is in the buffer bound last.</summary>
    public void Run(RunOptions runOptions, OrtValue sample, OrtValue timestep)
    {
        _binding.BindInput("sample", sample);
        _binding.BindInput("timestep", timestep);
        session.RunWithBinding(runOptions, _binding);
        _binding.SynchronizeBoundOutputs();
    }

    public void Dispose() => _binding.Dispose();
}
