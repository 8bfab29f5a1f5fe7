using System.Diagnostics;

namespace DiffusionGallery.Inference.Pipeline;

/// <summary>Accumulates wall time per named stage of one job.</summary>
public sealed class StageTimings
{
    public const string Tokenize = "tokenize";
    public const string TextEncoder = "text_encoder";
    public const string VaeEncode = "vae_encode";
    public const string Unet = "unet";
    public const string Scheduler = "scheduler";
    public const string Noise = "noise";
    public const string TensorIo = "tensor_io";
    public const string Preview = "preview";
    public const string VaeDecode = "vae_decode";
    public const string PngEncode = "png_encode";
    public const string Total = "total";
    /// <summary>The step loop's wall time while the member was in it (its UNet calls, the sampler work and the host's share between calls).</summary>
    public const string Loop = "loop";
    /// <summary>Within <see cref="Loop"/>: admitting members that join a running run (tokens, text encoder, samplers, noise).</summary>
    public const string Join = "join";
    /// <summary>Within <see cref="Loop"/>: CFG, sampler steps and progress of every member after a UNet call.</summary>
    public const string Advance = "advance";
    /// <summary>Within <see cref="Loop"/>: members leaving (decoded on the loop, or posted to the decoder thread) and handed on.</summary>
    public const string Leave = "leave";

    /// <summary>Stages that are ONNX Runtime <c>Run</c> calls and nothing else.</summary>
    public static IReadOnlyList<string> OnnxStages { get; } = [TextEncoder, VaeEncode, Unet, VaeDecode];

    private readonly Dictionary<string, long> _ticks = new();

    internal void AddTicks(string stage, long ticks) => _ticks[stage] = _ticks.GetValueOrDefault(stage) + ticks;

    public void Add(string stage, long startTimestamp) =>
        _ticks[stage] = _ticks.GetValueOrDefault(stage) + (Stopwatch.GetTimestamp() - startTimestamp);

    /// <summary>Adds the time since <paramref name="startTimestamp"/> to each member's timings (a stage they shared).</summary>
    internal static void AddShared(string stage, long startTimestamp, IReadOnlyList<StageTimings> timings) =>
        AddSharedTicks(stage, Stopwatch.GetTimestamp() - startTimestamp, timings);

    /// <summary>Adds <paramref name="ticks"/> (<see cref="Stopwatch"/> ticks) to each member's timings (a stage they shared).</summary>
    internal static void AddSharedTicks(string stage, long ticks, IReadOnlyList<StageTimings> timings)
    {
        for (var i = 0; i < timings.Count; i++)
            timings[i]._ticks[stage] = timings[i]._ticks.GetValueOrDefault(stage) + ticks;
    }

    public IReadOnlyDictionary<string, TimeSpan> ToDictionary() =>
        _ticks.ToDictionary(kv => kv.Key, kv => TimeSpan.FromSeconds(kv.Value / (double)Stopwatch.Frequency));
}
