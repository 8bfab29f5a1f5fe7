using DiffusionGallery.Inference.Onnx;
using Microsoft.ML.OnnxRuntime;

namespace DiffusionGallery.Inference.Pipeline;

/// <summary>
/// The step loop's host tensors of one shared run (rows for the largest batch; <see cref="TimestepCond"/> only for
/// LCM with a guidance embedding). The loop writes the inputs' first rows and reads the output's.
/// </summary>
internal sealed record UnetTensors(RowTensor Sample, RowTensor Timestep, RowTensor Hidden, RowTensor? TimestepCond, RowTensor Output);

/// <summary>
/// How the step loop calls the UNet. <see cref="SetLayout"/> follows every change of a run's members (the text
/// embeddings, and LCM's guidance embedding, are uploaded in their host tensors then); <see cref="Run"/> follows the
/// upload of each step's latents and timestep and leaves the graph-typed output in the output tensor.
/// </summary>
internal interface IUnetCall : IDisposable
{
    /// <param name="rows">The rows the calls cover from now on.</param>
    /// <param name="written">The rows whose embeddings were written since the last layout (the others are as they were).</param>
    void SetLayout(int rows, IReadOnlyList<RowRange> written);

    void Run(RunOptions runOptions, int rows);

    /// <summary>The rows a call over the first <paramref name="rows"/> computes (see <see cref="RowLayout{T}"/>).</summary>
    int RowsComputed(int rows) => rows;
}

/// <summary>Every input passed at every call (ONNX Runtime copies them to the device each time on CUDA).</summary>
internal sealed class DirectUnetCall(InferenceSession session, string outputName, UnetTensors t) : IUnetCall
{
    private readonly string[] _inputNames = t.TimestepCond is null
        ? ["sample", "timestep", "encoder_hidden_states"]
        : ["sample", "timestep", "encoder_hidden_states", "timestep_cond"];
    private readonly string[] _outputNames = [outputName];
    private OrtValue[] _inputs = [];
    private OrtValue[] _outputs = [];

    public void SetLayout(int rows, IReadOnlyList<RowRange> written)
    {
        _inputs = t.TimestepCond is null
            ? [t.Sample.View(rows), t.Timestep.View(rows), t.Hidden.View(rows)]
            : [t.Sample.View(rows), t.Timestep.View(rows), t.Hidden.View(rows), t.TimestepCond.View(rows)];
        _outputs = [t.Output.View(rows)];
    }

    public void Run(RunOptions runOptions, int rows)
    {
        using var work = CudaGraphCapture.Work();
        session.Run(runOptions, _inputNames, _inputs, _outputNames, _outputs);
    }

    public void Dispose()
    {
    }
}

/// <summary>
/// Through an <see cref="OrtIoBinding"/>: what stays the same while a run's members do (the text embeddings, LCM's
/// guidance embedding, the output buffer) is bound at <see cref="SetLayout"/> — on CUDA that is when ONNX Runtime
/// copies it to the device, once instead of at every step; latents and timestep are bound again at every call.
/// On the CPU every binding is the pipeline's own memory, without a copy.
/// </summary>
internal sealed class BoundUnetCall(InferenceSession session, string outputName, UnetTensors t) : IUnetCall
{
    private readonly OrtIoBinding _binding = session.CreateIoBinding();

    public void SetLayout(int rows, IReadOnlyList<RowRange> written)
    {
        _binding.ClearBoundInputs();
        _binding.ClearBoundOutputs();
        _binding.BindInput("encoder_hidden_states", t.Hidden.View(rows));
        if (t.TimestepCond is not null)
            _binding.BindInput("timestep_cond", t.TimestepCond.View(rows));
        _binding.BindOutput(outputName, t.Output.View(rows));
    }

    public void Run(RunOptions runOptions, int rows)
    {
        using var work = CudaGraphCapture.Work();
        _binding.BindInput("sample", t.Sample.View(rows));
        _binding.BindInput("timestep", t.Timestep.View(rows));
        session.RunWithBinding(runOptions, _binding);
        _binding.SynchronizeBoundOutputs();
    }

    public void Dispose() => _binding.Dispose();
}

/// <summary>
/// The model's fixed-shape UNet for the run's row count (rounded up to a power of two) and latent size, from its
/// <see cref="StaticUnetCache"/>: the embeddings are copied into that UNet's tensors at <see cref="SetLayout"/> (only
/// the rows written since the last layout while the UNet stays the same; all of them when this run switches to it), the
/// latents and timestep before each call, the output rows back after it. Where the cache has no such UNet (full,
/// or refused), or a call is refused, the <paramref name="fallback"/> runs instead.
/// </summary>
internal sealed class StaticUnetCall(StaticUnetCache cache, int latentH, int latentW, UnetTensors t, IUnetCall fallback) : IUnetCall
{
    private StaticUnet? _unet;
    private int _fallbackLayout = -1; // rows the fallback was last laid out for; -1 = stale

    public void SetLayout(int rows, IReadOnlyList<RowRange> written)
    {
        _fallbackLayout = -1;
        var previous = _unet;
        _unet = cache.TryGet(StaticUnetShape.For(rows, latentH, latentW), t.TimestepCond is not null, out var unet) ? unet : null;
        if (_unet is null)
            return;
        // (another UNet, or one this run used before another, holds other rows: all of them are written)
        IReadOnlyList<RowRange> changed = ReferenceEquals(_unet, previous) ? written : [new RowRange(0, rows)];
        foreach (var range in changed)
        {
            _unet.Hidden.Write(t.Hidden.TypedBytes(range), t.Hidden.ByteOffset(range.Start));
            if (t.TimestepCond is not null)
                _unet.TimestepCond!.Write(t.TimestepCond.TypedBytes(range), t.TimestepCond.ByteOffset(range.Start));
        }

        _unet.LayoutWritten();
    }

    /// <summary>The fixed-shape UNet the calls of the current layout run on; null = the fallback.</summary>
    public StaticUnet? Current => _unet;

    /// <summary>
    /// A call whose latents are already in <see cref="Current"/>'s sample tensor (<see cref="DeviceLatents"/>): writes the
    /// timesteps, runs, and leaves the output where it is. False when there is no fixed-shape UNet or the call was refused
    /// (that path is then off, as in <see cref="Run"/>): the caller steps on the host instead.
    /// </summary>
    public bool RunOnDevice(RunOptions runOptions, int rows)
    {
        if (_unet is not { } unet)
            return false;
        try
        {
            unet.Timestep.Write(t.Timestep.TypedBytes(rows));
            unet.Run(runOptions);
            return true;
        }
        catch (OnnxRuntimeException ex) when (!runOptions.Terminate)
        {
            _unet = null;
            cache.Disable($"a call for {unet.Shape} failed: {ex.Message.Split('\n')[0]}");
            return false;
        }
    }

    /// <summary>A fixed-shape UNet computes its power of two of rows; the ordinary session, where it stands in, each row.</summary>
    public int RowsComputed(int rows)
    {
        var shape = StaticUnetShape.For(rows, latentH, latentW);
        return cache.Serves(shape, t.TimestepCond is not null) ? shape.Rows : rows;
    }

    public void Run(RunOptions runOptions, int rows)
    {
        if (_unet is { } unet)
        {
            try
            {
                unet.Sample.Write(t.Sample.TypedBytes(rows));
                unet.Timestep.Write(t.Timestep.TypedBytes(rows));
                unet.Run(runOptions);
                unet.Output.Read(t.Output.TypedBytes(rows));
                return;
            }
            catch (OnnxRuntimeException ex) when (!runOptions.Terminate)
            {
                _unet = null;
                cache.Disable($"a call for {unet.Shape} failed: {ex.Message.Split('\n')[0]}");
            }
        }

        if (_fallbackLayout != rows)
        {
            fallback.SetLayout(rows, [new RowRange(0, rows)]);
            _fallbackLayout = rows;
        }

        fallback.Run(runOptions, rows);
    }

    public void Dispose() => fallback.Dispose();
}
