namespace DiffusionGallery.Inference;

/// <summary>Which ONNX Runtime execution provider to use.</summary>
public enum ExecutionProviderPreference
{
    /// <summary>CUDA when its provider loads, otherwise CPU (the fallback is logged and reported in results).</summary>
    Auto,
    /// <summary>CUDA only; construction fails with <see cref="Onnx.ExecutionProviderUnavailableException"/> when unavailable.</summary>
    Cuda,
    Cpu,
}

/// <summary>CUDA execution provider settings (ORT <c>OrtCUDAProviderOptions</c> keys).</summary>
public sealed class CudaProviderSettings
{
    /// <summary><c>EXHAUSTIVE</c>, <c>HEURISTIC</c> or <c>DEFAULT</c> (cuDNN convolution algorithm search).</summary>
    public string CudnnConvAlgoSearch { get; set; } = "HEURISTIC";
    /// <summary>Upper bound of the CUDA memory arena in bytes; 0 = no limit.</summary>
    public long GpuMemoryLimitBytes { get; set; }
    /// <summary><c>kNextPowerOfTwo</c> or <c>kSameAsRequested</c>.</summary>
    public string ArenaExtendStrategy { get; set; } = "kSameAsRequested";
    /// <summary>
    /// Replay the fixed-shape UNet sessions (<see cref="InferenceOptions.StaticUnetShapes"/>) as CUDA graphs, with their
    /// inputs and output in device memory (on by default: the tiny model's UNet step is launch-bound, 5.6 → 1.3 ms on an
    /// H100). Falls back to the ordinary path, with a log line, where ONNX Runtime refuses; inert where the fixed-shape
    /// sessions are off.
    /// </summary>
    public bool CudaGraphs { get; set; } = true;
}

/// <summary>
/// Settings of the inference engine. Bindable from configuration (the web app's <c>Inference</c> section);
/// call <see cref="Validate"/> (or let <see cref="Pipeline.DiffusionImageGenerator"/> do it) before use.
/// </summary>
public sealed class InferenceOptions
{
    /// <summary>Folder whose sub-folders are model folders (diffusers ONNX layout).</summary>
    public string ModelsRoot { get; set; } = "models";
    /// <summary>Model used when a request names none; null = the first model found.</summary>
    public string? DefaultModel { get; set; }
    public ExecutionProviderPreference Provider { get; set; } = ExecutionProviderPreference.Auto;
    public int DeviceId { get; set; }
    /// <summary>Intra-op threads for the CPU provider; 0 = ONNX Runtime's default (one per physical core).</summary>
    public int IntraOpThreads { get; set; }
    /// <summary>
    /// Let idle CPU worker threads busy-wait for work. Faster on a dedicated machine, much slower when the cores are
    /// shared (a web server, other jobs), so it is off by default.
    /// </summary>
    public bool AllowSpinning { get; set; }
    public CudaProviderSettings Cuda { get; set; } = new();
    /// <summary>
    /// Run the UNet through an <c>OrtIoBinding</c>: the text embeddings (and LCM's guidance embedding) are bound once
    /// per change of a run's members, so on CUDA they are copied to the device then instead of at every step, and
    /// the output lands in the pipeline's own buffer. Off only to measure the difference side by side.
    /// </summary>
    public bool UseIoBinding { get; set; } = true;
    /// <summary>
    /// How many UNet shapes (row count rounded up to a power of two × latent size) get a session of their own with
    /// every dimension fixed, so ONNX Runtime folds the shape arithmetic away; with the CUDA provider those sessions
    /// also capture a CUDA graph (<see cref="CudaProviderSettings.CudaGraphs"/>). Each holds its own copy of the UNet
    /// weights. 0 = off (one session for every shape); shapes beyond the limit use that one session.
    /// <see cref="AutomaticStaticUnetShapes"/> (the default): with the CUDA provider, 8 for a UNet of at most
    /// <see cref="AutomaticStaticUnetMaxMB"/> MB of weights and 1 for a larger one (the first shape it runs, usually one
    /// image with CFG: an SD-1.5-sized UNet's step went from 9.33 to 7.65 ms on an H100, for one more copy of its weights;
    /// a card without room for it refuses the session and the ordinary one runs); off on the CPU.
    /// </summary>
    public int StaticUnetShapes { get; set; } = AutomaticStaticUnetShapes;

    /// <summary>The value of <see cref="StaticUnetShapes"/> that lets the engine choose per model and provider.</summary>
    public const int AutomaticStaticUnetShapes = -1;
    /// <summary>Largest UNet (its files, in MB) that gets fixed-shape sessions automatically: each holds a copy of the weights.</summary>
    public const int AutomaticStaticUnetMaxMB = 256;
    /// <summary>How many shapes the automatic setting allows (1, 2, 4 and 8 rows cover a shared run of up to 4 CFG images at once).</summary>
    public const int AutomaticStaticUnetShapeCount = 8;
    /// <summary>How many shapes the automatic setting allows a UNet larger than <see cref="AutomaticStaticUnetMaxMB"/>.</summary>
    public const int AutomaticLargeUnetShapeCount = 1;

    /// <summary>What <see cref="AutomaticStaticUnetShapes"/> means for a UNet of <paramref name="unetBytes"/> on a provider.</summary>
    public static int AutomaticStaticUnetShapesFor(bool cuda, long unetBytes) =>
        !cuda ? 0 : unetBytes <= AutomaticStaticUnetMaxMB * 1024L * 1024 ? AutomaticStaticUnetShapeCount : AutomaticLargeUnetShapeCount;
    /// <summary>Largest batch a request may ask for.</summary>
    public int MaxBatchSize { get; set; } = 8;
    /// <summary>
    /// Memory a shared run (<see cref="Abstractions.IBatchImageGenerator"/>) may plan for its UNet activations, in MB;
    /// <see cref="Abstractions.IBatchImageGenerator.MaxBatchImages"/> divides it by an estimate per image (latent size
    /// × text width, see <see cref="Pipeline.BatchMemoryEstimate"/>). 0 = automatic: 512 on CPU, 16384 on CUDA.
    /// </summary>
    public int BatchMemoryBudgetMB { get; set; }
    /// <summary>Engines sharing this engine's GPU (each runs its own shared runs): the automatic CUDA budget is split among them.</summary>
    public int EnginesSharingDevice { get; set; } = 1;
    /// <summary>How many models keep their sessions loaded; switching beyond this unloads the least recently used.</summary>
    public int MaxLoadedModels { get; set; } = 1;
    /// <summary>Nearest-neighbour upscale of preview frames (1 = latent resolution, e.g. 16×16 for 128×128 images).</summary>
    public int PreviewUpscale { get; set; } = 4;
    /// <summary>
    /// Most images one VAE decode call takes when members finish at the same step (1, the default = every image alone;
    /// 0 = automatic: by latent size, 64 at 128² down to 1 from 1024²). Calls are padded to a power of two images, so a
    /// session sees a handful of shapes only. Shared calls made 8 images 3.2 → 1.3 ms on an H100, but under mixed load
    /// some calls took ~20 ms, and through the web app (which passes this setting since 2026-12-07 11:20) 32 users got
    /// 115–151 images/s against 176–196 with one image a call (docs/benchmarks.md, 2026-12-07 12:18), so they are not
    /// the default.
    /// </summary>
    public int DecodeImagesPerCall { get; set; } = 1;
    /// <summary>
    /// Decode finished images on a second thread of the engine while the step loop goes on (the VAE's calls then overlap
    /// the next UNet calls), instead of on the loop's thread, which the UNet waits for. Off by default: on an H100 it took
    /// the decoding out of the loop but the loop's other parts grew and images/s stayed within noise (docs/benchmarks.md,
    /// 2026-12-07 12:18; again with <see cref="AdmitOffLoop"/> at 15:05: GPU busy 45 → 56 %, images/s and p50 the same,
    /// p95 a little higher); on the CPU both threads share the same cores.
    /// </summary>
    public bool DecodeOffLoop { get; set; }
    /// <summary>
    /// With <see cref="DecodeOffLoop"/>: decode on a thread of its own instead of the side thread that also admits joiners
    /// (<see cref="AdmitOffLoop"/>), so that a joiner's admission does not wait behind a wave of decodes, nor a decode
    /// behind the joiners' text encoding. Off by default: not yet measured on a GPU (built 2026-12-08 for the next call;
    /// the step loop's reports now say how busy the side thread is).
    /// </summary>
    public bool DecodeThread { get; set; }
    /// <summary>
    /// Admit members that join a running shared run (tokens, text encoder, samplers, noise, an init image's encoding) on a
    /// second thread of the engine; they enter the loop at the first step boundary after that is done, instead of the
    /// loop waiting for it at every step at which someone joins. Off by default: on an H100 (docs/benchmarks.md, 2026-12-07
    /// 15:05) images/s stayed within the spread between runs, alone and with <see cref="DecodeOffLoop"/> (GPU busy 45 → 56 %
    /// at depth 8), and the one call that used it also found a race in it (fixed since, not yet measured again).
    /// </summary>
    public bool AdmitOffLoop { get; set; }
    /// <summary>
    /// Decode through fixed-shape VAE decoder sessions (one per images a call × latent size, up to
    /// <see cref="StaticVaeDecoderShapes"/>, each with its own copy of the decoder's weights), replayed as CUDA graphs on
    /// CUDA with <see cref="CudaProviderSettings.CudaGraphs"/>, as the UNet's fixed shapes are: a one-image decode at 128² is
    /// launch-bound. Off by default: on an H100 (docs/benchmarks.md, 2026-12-07) alone no faster (call 1), and with
    /// admission and decoding off the loop GPU busy 61 % at depth 8 and 67 % with 32 users, images/s within the spread.
    /// </summary>
    public bool StaticVaeDecoder { get; set; }
    /// <summary>
    /// Keep a shared run's latents where its fixed-shape UNet runs (device memory on CUDA) between steps: CFG and the
    /// sampler step run as a small graph beside the UNet (<see cref="Pipeline.LatentStepGraph"/>) for DPM++ 2M and Euler
    /// (the others, and CFG rescale, step on the host), and only a member's entry, previews and final latents cross to
    /// the host. Needs fixed-shape UNets (<see cref="StaticUnetShapes"/>). Off by default: measured on an H100 with the
    /// bundled model (8 users at depth 8), GPU busy 61 % against 60 % and images/s 207 against 205 — the copies it saves
    /// are spent again in the step graph's small kernels.
    /// </summary>
    public bool LatentsOnDevice { get; set; }
    /// <summary>Most fixed-shape VAE decoder sessions a model keeps (<see cref="StaticVaeDecoder"/>).</summary>
    public const int StaticVaeDecoderShapes = 4;
    /// <summary>
    /// Latent values (images × channels × latent height × width) one step's sampler work must reach before it is spread
    /// over the CPU's cores; below, the step loop's own thread does it. A value that needs fresh noise (ancestral
    /// samplers) counts 32 times. 0 = automatic (1,048,576); 1 = whenever at least 4 members share the step (the
    /// behaviour before 2026-12-07). On an H100 under load, 32 members' sampler steps at
    /// 128² summed ~1.6 ms a step in parallel (threads shared with the web app) against ~0.1 ms on one core alone.
    /// </summary>
    public int SamplerParallelFrom { get; set; }
    /// <summary>zlib level (0–9) of the PNGs produced; higher is smaller and slower.</summary>
    public int PngCompressionLevel { get; set; } = Imaging.PngWriter.DefaultCompressionLevel;
    /// <summary>Receives informational messages (provider choice, model loads). Null = silent.</summary>
    public Action<string>? Log { get; set; }

    /// <summary>All problems with these settings (empty when valid).</summary>
    public IReadOnlyList<string> Validate()
    {
        var errors = new List<string>();
        if (string.IsNullOrWhiteSpace(ModelsRoot))
            errors.Add("ModelsRoot is required.");
        else if (!Directory.Exists(ModelsRoot))
            errors.Add($"ModelsRoot '{ModelsRoot}' does not exist.");
        if (!Enum.IsDefined(Provider))
            errors.Add($"Provider '{Provider}' is not one of Auto, Cuda, Cpu.");
        if (DeviceId < 0)
            errors.Add("DeviceId must be 0 or more.");
        if (IntraOpThreads is < 0 or > 1024)
            errors.Add("IntraOpThreads must be between 0 (default) and 1024.");
        if (MaxBatchSize is < 1 or > 64)
            errors.Add("MaxBatchSize must be between 1 and 64.");
        if (BatchMemoryBudgetMB is < 0 or > 1_048_576)
            errors.Add("BatchMemoryBudgetMB must be between 0 (automatic) and 1048576.");
        if (EnginesSharingDevice is < 1 or > 16)
            errors.Add("EnginesSharingDevice must be between 1 and 16.");
        if (StaticUnetShapes is < AutomaticStaticUnetShapes or > 64)
            errors.Add("StaticUnetShapes must be between 0 (off) and 64, or -1 (automatic).");
        if (MaxLoadedModels < 1)
            errors.Add("MaxLoadedModels must be at least 1.");
        if (PreviewUpscale is < 1 or > 16)
            errors.Add("PreviewUpscale must be between 1 and 16.");
        if (SamplerParallelFrom < 0)
            errors.Add("SamplerParallelFrom must be 0 (automatic) or more.");
        if (DecodeImagesPerCall is < 0 or > 64)
            errors.Add("DecodeImagesPerCall must be between 0 (automatic) and 64.");
        if (DecodeThread && !DecodeOffLoop)
            errors.Add("DecodeThread needs DecodeOffLoop (decoding off the step loop's thread).");
        if (PngCompressionLevel is < 0 or > 9)
            errors.Add("PngCompressionLevel must be between 0 and 9.");
        if (Cuda.CudnnConvAlgoSearch is not ("EXHAUSTIVE" or "HEURISTIC" or "DEFAULT"))
            errors.Add("Cuda.CudnnConvAlgoSearch must be EXHAUSTIVE, HEURISTIC or DEFAULT.");
        if (Cuda.ArenaExtendStrategy is not ("kNextPowerOfTwo" or "kSameAsRequested"))
            errors.Add("Cuda.ArenaExtendStrategy must be kNextPowerOfTwo or kSameAsRequested.");
        if (Cuda.GpuMemoryLimitBytes < 0)
            errors.Add("Cuda.GpuMemoryLimitBytes must be 0 (no limit) or more.");
        return errors;
    }

    /// <summary>
    /// The budget in MB for a provider ("CUDA" or "CPU"): the configured one, or the automatic default (on CUDA, 16384
    /// split among the <see cref="EnginesSharingDevice"/>).
    /// </summary>
    public int EffectiveBatchMemoryBudgetMB(string provider) =>
        BatchMemoryBudgetMB > 0 ? BatchMemoryBudgetMB
        : string.Equals(provider, "CUDA", StringComparison.OrdinalIgnoreCase) ? 16384 / Math.Max(1, EnginesSharingDevice) : 512;

    public void ThrowIfInvalid()
    {
        var errors = Validate();
        if (errors.Count > 0)
            throw new ArgumentException("Invalid inference options: " + string.Join(" ", errors));
    }
}
