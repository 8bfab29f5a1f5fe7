using System.Runtime.InteropServices;
using DiffusionGallery.Inference.Onnx;
using DiffusionGallery.Inference.Scheduling;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;

namespace DiffusionGallery.Inference.Pipeline;

/// <summary>
/// A shared run's latents kept where its fixed-shape UNet runs (<see cref="InferenceOptions.LatentsOnDevice"/>): the
/// latents and previous denoised predictions of every member's rows, twice (a step reads one set and writes the other),
/// at the rows <see cref="RowLayout{T}"/> gave the member (both rows of a CFG pair hold the same values). A member's
/// state is <see cref="Place"/>d from its host buffers when it enters (or after it moved), stepped by
/// <see cref="LatentStepGraph"/> together with everyone's, and <see cref="Fetch"/>ed back to its host buffers (with its
/// samplers' history) when it ends or the run goes back to stepping on the host; a preview reads only its denoised rows.
/// On the CPU the same path runs over host memory (what the tests check). The step loop's thread only.
/// </summary>
internal sealed class DeviceLatents : IDisposable
{
    private readonly LatentStepGraph _graph;
    private readonly int _rowLength;
    private readonly FixedTensor[] _x;
    private readonly FixedTensor[] _previous;
    private readonly long[] _uncondRow;
    private readonly long[] _condRow;
    private readonly double[] _coefficients;
    private readonly Dictionary<int, (OrtValue Uncond, OrtValue Cond, OrtValue Coefficients)> _hostViews = [];
    private readonly Dictionary<BatchMember, int> _held = new(ReferenceEqualityComparer.Instance);
    private int _current; // which of the two sets holds the latents now

    /// <param name="rows">The most UNet rows a call can have (a fixed-shape UNet's power of two included).</param>
    public DeviceLatents(LatentStepGraph graph, int rows, int channels, int latentH, int latentW, int? cudaDevice)
    {
        _graph = graph;
        Rows = rows;
        _rowLength = channels * latentH * latentW;
        long[] shape = [rows, channels, latentH, latentW];
        var made = new List<FixedTensor>();
        try
        {
            for (var i = 0; i < 4; i++)
                made.Add(new FixedTensor(TensorElementType.Float, shape, cudaDevice));
        }
        catch
        {
            foreach (var tensor in made)
                tensor.Dispose();
            throw;
        }

        _x = [made[0], made[1]];
        _previous = [made[2], made[3]];
        _uncondRow = new long[rows];
        _condRow = new long[rows];
        _coefficients = new double[rows * LatentStepGraph.CoefficientsPerRow];
    }

    /// <summary>The most rows a step covers.</summary>
    public int Rows { get; }

    /// <summary>The fixed-shape UNet whose sample tensor holds the next input of the members held here.</summary>
    public StaticUnet? Unet { get; set; }

    /// <summary>Members whose state is here.</summary>
    public IReadOnlyCollection<BatchMember> Held => _held.Keys;

    /// <summary>The first row of a member held here, or -1.</summary>
    public int OffsetOf(BatchMember m) => _held.TryGetValue(m, out var offset) ? offset : -1;

    /// <summary>
    /// Writes a member's latents and previous denoised prediction (its host buffers) into its rows from
    /// <paramref name="offset"/> on, and its next UNet input (latents × the step's input scale) into <see cref="Unet"/>'s
    /// sample tensor through the run's host <paramref name="sample"/> tensor (whose typed rows it converts).
    /// </summary>
    public void Place(BatchMember m, int offset, int itemLength, RowTensor sample)
    {
        var unet = Unet ?? throw new InvalidOperationException("No fixed-shape UNet to place the member's input in.");
        for (var b = 0; b < m.Batch; b++)
        {
            var latents = m.Latents.AsSpan(b * itemLength, itemLength);
            var previous = m.Denoised.AsSpan(b * itemLength, itemLength);
            var scale = m.Samplers[b].InputScale(m.Step);
            foreach (var row in RowsOf(m, offset, b))
            {
                _x[_current].Write(MemoryMarshal.AsBytes(latents), RowBytes(row));
                _previous[_current].Write(MemoryMarshal.AsBytes(previous), RowBytes(row));
                var target = sample.Row(row);
                for (var k = 0; k < itemLength; k++)
                    target[k] = latents[k] * scale;
            }
        }

        sample.Upload(offset, m.RowsPerStep);
        var range = new RowRange(offset, m.RowsPerStep);
        unet.Sample.Write(sample.TypedBytes(range), sample.ByteOffset(offset));
        _held[m] = offset;
    }

    /// <summary>
    /// Reads a held member's latents and previous denoised prediction back into its host buffers, hands the latter to its
    /// samplers (the history of a multistep sampler's next host step), and holds it no longer.
    /// </summary>
    public void Fetch(BatchMember m, int itemLength)
    {
        var offset = _held[m];
        for (var b = 0; b < m.Batch; b++)
        {
            var row = offset + b;
            _x[_current].Read(MemoryMarshal.AsBytes(m.Latents.AsSpan(b * itemLength, itemLength)), RowBytes(row));
            var previous = m.Denoised.AsSpan(b * itemLength, itemLength);
            _previous[_current].Read(MemoryMarshal.AsBytes(previous), RowBytes(row));
            m.Samplers[b].AdoptHistory(previous);
        }

        _held.Remove(m);
    }

    /// <summary>Reads a held member's last denoised prediction into its host buffer (for a preview).</summary>
    public void FetchDenoised(BatchMember m, int itemLength)
    {
        var offset = _held[m];
        for (var b = 0; b < m.Batch; b++)
            _previous[_current].Read(MemoryMarshal.AsBytes(m.Denoised.AsSpan(b * itemLength, itemLength)), RowBytes(offset + b));
    }

    /// <summary>Forgets members that are not in <paramref name="staying"/> (their rows become a gap).</summary>
    public void Forget(IReadOnlyList<BatchMember> staying)
    {
        if (_held.Count == 0)
            return;
        var keep = new HashSet<BatchMember>(staying, ReferenceEqualityComparer.Instance);
        foreach (var gone in _held.Keys.Where(m => !keep.Contains(m)).ToList())
            _held.Remove(gone);
    }

    /// <summary>
    /// Takes one step of every held member (each at its own step) after <see cref="Unet"/> ran over its
    /// <paramref name="rows"/> rows: each image's sampler gives its <see cref="LinearStep"/> (and counts the step as
    /// taken), CFG pairs combine with the member's guidance scale, rows of no member (gaps) compute zeros; the next
    /// input lands in the UNet's sample tensor.
    /// </summary>
    public void Step(RunOptions runOptions, int rows, int steps)
    {
        var unet = Unet ?? throw new InvalidOperationException("No fixed-shape UNet ran.");
        const int n = LatentStepGraph.CoefficientsPerRow;
        Array.Clear(_coefficients, 0, rows * n);
        for (var r = 0; r < rows; r++)
            _uncondRow[r] = _condRow[r] = r;
        foreach (var (m, offset) in _held)
        {
            var scale = m.UseCfg ? m.Request.GuidanceScale : 1f;
            for (var b = 0; b < m.Batch; b++)
            {
                var sampler = m.Samplers[b];
                if (!sampler.TakeLinearStep(m.Step, out var c))
                    throw new InvalidOperationException($"The {sampler.Kind} sampler has no linear step {m.Step}.");
                var inputScale = m.Step + 1 < steps ? sampler.InputScale(m.Step + 1) : 1f;
                var (uncond, cond) = m.UseCfg ? (offset + b, offset + m.Batch + b) : (offset + b, offset + b);
                foreach (var row in RowsOf(m, offset, b))
                {
                    _uncondRow[row] = uncond;
                    _condRow[row] = cond;
                    var k = row * n;
                    _coefficients[k] = scale;
                    _coefficients[k + 1] = c.CSkip;
                    _coefficients[k + 2] = c.COut;
                    _coefficients[k + 3] = c.BX;
                    _coefficients[k + 4] = c.BD;
                    _coefficients[k + 5] = c.BP;
                    _coefficients[k + 6] = inputScale;
                }
            }
        }

        var (uncondView, condView, coefficientsView) = HostViews(rows);
        var next = 1 - _current;
        _graph.Run(runOptions, unet.Output.View(rows), _x[_current].View(rows), _previous[_current].View(rows), uncondView, condView,
            coefficientsView, _x[next].View(rows), _previous[next].View(rows), unet.Sample.View(rows));
        _current = next;
    }

    private static IEnumerable<int> RowsOf(BatchMember m, int offset, int image) =>
        m.UseCfg ? [offset + image, offset + m.Batch + image] : [offset + image];

    private long RowBytes(int row) => (long)row * _rowLength * sizeof(float);

    private (OrtValue, OrtValue, OrtValue) HostViews(int rows)
    {
        if (_hostViews.TryGetValue(rows, out var views))
            return views;
        views = (OrtValue.CreateTensorValueFromMemory(OrtMemoryInfo.DefaultInstance, _uncondRow.AsMemory(0, rows), [rows]),
            OrtValue.CreateTensorValueFromMemory(OrtMemoryInfo.DefaultInstance, _condRow.AsMemory(0, rows), [rows]),
            OrtValue.CreateTensorValueFromMemory(OrtMemoryInfo.DefaultInstance, _coefficients.AsMemory(0, rows * LatentStepGraph.CoefficientsPerRow),
                [rows, LatentStepGraph.CoefficientsPerRow]));
        _hostViews[rows] = views;
        return views;
    }

    public void Dispose()
    {
        foreach (var (uncond, cond, coefficients) in _hostViews.Values)
        {
            uncond.Dispose();
            cond.Dispose();
            coefficients.Dispose();
        }

        _hostViews.Clear();
        foreach (var tensor in _x.Concat(_previous))
            tensor.Dispose();
    }
}
