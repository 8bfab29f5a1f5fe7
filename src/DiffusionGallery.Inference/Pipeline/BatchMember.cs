using System.Diagnostics;
using DiffusionGallery.Inference.Abstractions;
using DiffusionGallery.Inference.Noise;
using DiffusionGallery.Inference.Prompting;
using DiffusionGallery.Inference.Scheduling;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;

namespace DiffusionGallery.Inference.Pipeline;

/// <summary>
/// One request of a shared run with everything that is its own: per image a sampler (multistep history), a Philox
/// generator (seed + i) and its slice of the latent/noise/denoised/guided buffers; its prompt embeddings, CFG,
/// guidance rescale, temperature, start step, progress sink, cancellation, timings and outcome.
/// </summary>
internal sealed class BatchMember(int index, BatchItem item)
{
    public int Index { get; } = index;
    public BatchItem Item { get; } = item;
    public GenerationRequest Request { get; } = item.Request;
    public IProgress<GenerationProgress>? Progress { get; } = item.Progress;
    public CancellationToken Token { get; } = item.CancellationToken;
    public int Batch => Request.BatchSize;
    public StageTimings Timings { get; } = new();
    public long JobStart { get; } = Stopwatch.GetTimestamp();
    public long LoopStart { get; set; }

    public bool UseCfg { get; set; }
    /// <summary>UNet rows per step: 2 per image with CFG ([uncond; cond]), else 1.</summary>
    public int RowsPerStep => UseCfg ? 2 * Batch : Batch;
    public WeightedTokens Positive { get; set; } = null!;
    public WeightedTokens Negative { get; set; } = null!;
    /// <summary>The text-encoder output this member's prompts are rows of (shared with the members admitted with it).</summary>
    public float[] Hidden { get; set; } = [];
    /// <summary>Index of this member's prompt / negative prompt in <see cref="Hidden"/>.</summary>
    public int PositiveRow { get; set; }
    public int NegativeRow { get; set; }

    public Sampler[] Samplers { get; set; } = [];
    public PhiloxNoiseGenerator[] Generators { get; set; } = [];
    public float[] Latents { get; set; } = [];
    public float[] Noise { get; set; } = [];
    public float[] Denoised { get; set; } = [];
    public float[] Guided { get; set; } = [];
    public int StartStep { get; set; }
    /// <summary>The next step this member runs (from <see cref="StartStep"/> up to the step count).</summary>
    public int Step { get; set; }
    public int TotalSteps => Request.Steps - StartStep;
    public string? InitImageHash { get; set; }
    /// <summary>[B, C, h, w] of <see cref="Latents"/>.</summary>
    public int[] LatentShape { get; set; } = [];

    /// <summary>Images in the largest UNet call this member took part in (its own included).</summary>
    public int SharedBatchSize { get; set; }

    /// <summary>Decoded images after the ONNX phase (owned here until handed on or disposed).</summary>
    public List<Image<Rgb24>>? Images { get; set; }
    public GenerationResult? Result { get; set; }
    public Exception? Error { get; set; }

    /// <summary>Set once the member has run its last step (or had none to run).</summary>
    public bool LoopDone { get; set; }

    /// <summary>A joiner being admitted on the engine's side thread: in the run, not yet in its loop (the loop's thread only).</summary>
    public bool Admitting { get; set; }

    /// <summary>Handed to <see cref="RunJoining.Finished"/> (joinable runs only; once per member).</summary>
    public bool Handed { get; set; }

    public void Fail(Exception error)
    {
        Error ??= error;
        DisposeImages();
    }

    public void DisposeImages()
    {
        if (Images is null)
            return;
        foreach (var image in Images)
            image.Dispose();
        Images = null;
    }

    public BatchItemOutcome ToOutcome() => Error is not null ? new(null, Error) : new(Result, null);
}
