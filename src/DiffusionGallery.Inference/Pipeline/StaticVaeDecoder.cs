using DiffusionGallery.Inference.Models;
using DiffusionGallery.Inference.Onnx;
using Microsoft.ML.OnnxRuntime;

namespace DiffusionGallery.Inference.Pipeline;

/// <summary>The fixed shape of a <see cref="StaticVaeDecoder"/>: images a call (a power of two, as the decode calls are padded) and the latent grid.</summary>
internal readonly record struct StaticVaeShape(int Images, int LatentH, int LatentW)
{
    public override string ToString() => $"{Images} images × {LatentH}×{LatentW} latents";
}

/// <summary>
/// The VAE decoder for one fixed shape, as <see cref="StaticUnet"/> is for the UNet: a session of its own with its
/// symbolic dimensions pinned, its input and output in <see cref="FixedTensor"/>s, and — on CUDA with CUDA graphs on —
/// a captured graph replayed at every call. At 128² a one-image decode is a few hundred small kernels: launch-bound.
/// </summary>
internal sealed class StaticVaeDecoder : IDisposable
{
    private readonly InferenceSession _session;
    private readonly OrtIoBinding _binding;
    private readonly bool _hostTensors;
    private int _runs;

    private StaticVaeDecoder(StaticVaeShape shape, InferenceSession session, FixedTensor input, FixedTensor output, string outputName, bool hostTensors)
    {
        Shape = shape;
        _session = session;
        _hostTensors = hostTensors;
        Input = input;
        Output = output;
        _binding = session.CreateIoBinding();
        _binding.BindInput("latent_sample", input.Value);
        _binding.BindOutput(outputName, output.Value);
    }

    public StaticVaeShape Shape { get; }
    public FixedTensor Input { get; }
    public FixedTensor Output { get; }

    /// <summary>
    /// Creates the session and tensors for <paramref name="shape"/>; <paramref name="cudaDevice"/> non-null puts the tensors
    /// in that device's memory and turns CUDA graphs on. Throws <see cref="NotSupportedException"/> when the graph's
    /// dimensions cannot all be pinned by name, or ONNX Runtime's exception when it refuses the session.
    /// </summary>
    public static StaticVaeDecoder Create(LoadedModel model, SessionFactory factory, StaticVaeShape shape, int? cudaDevice)
    {
        var inputShape = new long[] { shape.Images, model.LatentChannels, shape.LatentH, shape.LatentW };
        var outputShape = new long[] { shape.Images, 3, shape.LatentH * LoadedModel.VaeFactor, shape.LatentW * LoadedModel.VaeFactor };
        using var work = CudaGraphCapture.Work();
        using var options = factory.CreateSessionOptions(cudaGraph: cudaDevice is not null);
        // (the input's dimensions only: the exported decoder names its output's height and width as its input's)
        foreach (var (name, value) in FixedShapes.PinnedDimensions(model.VaeDecoder, new Dictionary<string, long[]> { ["latent_sample"] = inputShape }))
            options.AddFreeDimensionOverrideByName(name, value);
        var session = new InferenceSession(Path.Combine(model.Info.Folder, model.VaeDecoder.RelativePath), options);
        FixedTensor? input = null;
        try
        {
            input = new FixedTensor(model.LatentType, inputShape, cudaDevice);
            var output = new FixedTensor(model.VaeDecoder.Outputs[model.VaeDecoderOutput].ElementDataType, outputShape, cudaDevice);
            return new StaticVaeDecoder(shape, session, input, output, model.VaeDecoderOutput, hostTensors: cudaDevice is null);
        }
        catch
        {
            input?.Dispose();
            session.Dispose();
            throw;
        }
    }

    /// <summary>Runs the bound session (the caller has written <see cref="Input"/> and reads <see cref="Output"/> after).</summary>
    public void Run(RunOptions runOptions)
    {
        // (until its graph is captured, alone in the process: see CudaGraphCapture)
        using var scope = CudaGraphCapture.FixedShapeRun(replaysGraph: !_hostTensors, ref _runs);
        if (_hostTensors)
            _binding.BindInput("latent_sample", Input.Value); // (a host input is copied when bound)
        _session.RunWithBinding(runOptions, _binding);
        _binding.SynchronizeBoundOutputs();
    }

    public void Dispose()
    {
        _binding.Dispose();
        Input.Dispose();
        Output.Dispose();
        _session.Dispose();
    }
}

/// <summary>A loaded model's fixed-shape VAE decoders (<see cref="StaticVaeDecoder"/>), by shape.</summary>
internal sealed class StaticVaeDecoderCache(LoadedModel model, SessionFactory factory, int limit, bool cudaGraphs, int cudaDevice, Action<string>? log)
    : FixedShapeCache<StaticVaeShape, StaticVaeDecoder>(model.Name, "VAE decoder",
        shape => StaticVaeDecoder.Create(model, factory, shape, cudaGraphs ? cudaDevice : null), shape => shape.ToString(), limit, cudaGraphs, log);
