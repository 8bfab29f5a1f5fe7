using DiffusionGallery.Inference.Models;
using DiffusionGallery.Inference.Onnx;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;

namespace DiffusionGallery.Inference.Pipeline;

/// <summary>The fixed shape of a <see cref="StaticUnet"/>: UNet rows (a power of two) and the latent grid.</summary>
internal readonly record struct StaticUnetShape(int Rows, int LatentH, int LatentW)
{
    /// <summary>The shape whose row count is <paramref name="rows"/> rounded up to a power of two.</summary>
    public static StaticUnetShape For(int rows, int latentH, int latentW) =>
        new(checked((int)System.Numerics.BitOperations.RoundUpToPowerOf2((uint)rows)), latentH, latentW);

    public override string ToString() => $"{Rows} rows × {LatentH}×{LatentW} latents";
}

/// <summary>
/// The UNet for one fixed shape: a session of its own whose symbolic dimensions are pinned (ONNX Runtime then folds
/// the graph's shape arithmetic away), its inputs and output in <see cref="FixedTensor"/>s, and — on CUDA with CUDA
/// graphs on — a captured graph replayed at every call. Device tensors are bound once; host tensors are bound again
/// when their content changes (a CUDA session copies a host input when it is bound). A call with fewer rows than the shape fills the
/// first rows; the others keep earlier (finite) values, and since every UNet operation works per row their outputs
/// are ignored without affecting the real rows.
/// </summary>
internal sealed class StaticUnet : IDisposable
{
    private readonly InferenceSession _session;
    private readonly OrtIoBinding _binding;
    private readonly List<FixedTensor> _tensors = [];
    private readonly bool _hostTensors;
    private int _runs;

    private StaticUnet(StaticUnetShape shape, InferenceSession session, FixedTensor sample, FixedTensor timestep, FixedTensor hidden,
        FixedTensor? timestepCond, FixedTensor output, string outputName, bool hostTensors)
    {
        Shape = shape;
        _hostTensors = hostTensors;
        _session = session;
        Sample = sample;
        Timestep = timestep;
        Hidden = hidden;
        TimestepCond = timestepCond;
        Output = output;
        _tensors.AddRange(new[] { sample, timestep, hidden, timestepCond, output }.OfType<FixedTensor>());
        _binding = session.CreateIoBinding();
        _binding.BindInput("sample", sample.Value);
        _binding.BindInput("timestep", timestep.Value);
        _binding.BindInput("encoder_hidden_states", hidden.Value);
        if (timestepCond is not null)
            _binding.BindInput("timestep_cond", timestepCond.Value);
        _binding.BindOutput(outputName, output.Value);
    }

    public StaticUnetShape Shape { get; }
    public FixedTensor Sample { get; }
    public FixedTensor Timestep { get; }
    public FixedTensor Hidden { get; }
    public FixedTensor? TimestepCond { get; }
    public FixedTensor Output { get; }

    /// <summary>
    /// Creates the session and tensors for <paramref name="shape"/>. <paramref name="cudaDevice"/> non-null puts the
    /// tensors in that device's memory and turns CUDA graphs on. Throws <see cref="NotSupportedException"/> when the
    /// graph's dimensions cannot all be pinned by name, or ONNX Runtime's exception when it refuses the session.
    /// </summary>
    public static StaticUnet Create(LoadedModel model, SessionFactory factory, StaticUnetShape shape, bool timestepCond, int? cudaDevice)
    {
        var rows = shape.Rows;
        var perRowTimestep = model.TimestepPerRow;
        var hiddenSize = model.Unet.Inputs["encoder_hidden_states"].Dimensions[^1];
        var shapes = new Dictionary<string, long[]>
        {
            ["sample"] = [rows, model.LatentChannels, shape.LatentH, shape.LatentW],
            ["timestep"] = perRowTimestep ? [rows] : model.TimestepRank == 0 ? [] : [1],
            ["encoder_hidden_states"] = [rows, Tokenization.ClipTokenizer.MaxLength, hiddenSize],
        };
        if (timestepCond)
            shapes["timestep_cond"] = [rows, model.TimestepCondDim];
        var outputShape = new long[] { rows, model.LatentChannels, shape.LatentH, shape.LatentW };

        using var work = CudaGraphCapture.Work();
        using var options = factory.CreateSessionOptions(cudaGraph: cudaDevice is not null);
        foreach (var (name, value) in FixedShapes.PinnedDimensions(model.Unet, shapes, model.UnetOutput, outputShape))
            options.AddFreeDimensionOverrideByName(name, value);
        var session = new InferenceSession(Path.Combine(model.Info.Folder, model.Unet.RelativePath), options);
        var made = new List<FixedTensor>();
        try
        {
            FixedTensor Make(string input)
            {
                var tensor = new FixedTensor(model.Unet.Inputs[input].ElementDataType, shapes[input], cudaDevice);
                made.Add(tensor);
                return tensor;
            }

            var output = new FixedTensor(model.Unet.Outputs[model.UnetOutput].ElementDataType, outputShape, cudaDevice);
            made.Add(output);
            return new StaticUnet(shape, session, Make("sample"), Make("timestep"), Make("encoder_hidden_states"),
                timestepCond ? Make("timestep_cond") : null, output, model.UnetOutput, hostTensors: cudaDevice is null);
        }
        catch
        {
            foreach (var tensor in made)
                tensor.Dispose();
            session.Dispose();
            throw;
        }
    }

    /// <summary>
    /// After new text embeddings (and guidance embedding) were written. Host tensors are bound again: a session on
    /// CUDA copies a host input to the device when it is bound, not when it runs.
    /// </summary>
    public void LayoutWritten()
    {
        if (!_hostTensors)
            return;
        _binding.BindInput("encoder_hidden_states", Hidden.Value);
        if (TimestepCond is not null)
            _binding.BindInput("timestep_cond", TimestepCond.Value);
    }

    /// <summary>Runs the bound session (the caller has written the step's inputs and reads <see cref="Output"/> after).</summary>
    public void Run(RunOptions runOptions)
    {
        // (until its graph is captured, alone in the process: see CudaGraphCapture)
        using var scope = CudaGraphCapture.FixedShapeRun(replaysGraph: !_hostTensors, ref _runs);
        if (_hostTensors)
        {
            _binding.BindInput("sample", Sample.Value);
            _binding.BindInput("timestep", Timestep.Value);
        }

        _session.RunWithBinding(runOptions, _binding);
        _binding.SynchronizeBoundOutputs();
    }

    public void Dispose()
    {
        _binding.Dispose();
        foreach (var tensor in _tensors)
            tensor.Dispose();
        _session.Dispose();
    }
}
