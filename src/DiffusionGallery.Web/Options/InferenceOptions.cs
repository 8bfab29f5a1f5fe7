using System.ComponentModel.DataAnnotations;
using DiffusionGallery.Inference;

namespace DiffusionGallery.Web.Options;

/// <summary>The <c>Inference</c> section: where models live and how the engine runs.</summary>
public sealed class InferenceOptions : IValidatableObject
{
    public const string SectionName = "Inference";

    /// <summary>Folder holding one sub-folder per model (diffusers ONNX layout). Relative paths: see <see cref="AppPaths"/>.</summary>
    [Required] public string ModelsRoot { get; set; } = "models";

    /// <summary>Folder name of the default model.</summary>
    [Required] public string DefaultModel { get; set; } = "tiny-shapes";

    /// <summary>Auto (CUDA when available, else CPU), Cuda or Cpu.</summary>
    [Required, RegularExpression("^(Auto|Cuda|Cpu)$", ErrorMessage = "Provider must be Auto, Cuda or Cpu.")]
    public string Provider { get; set; } = "Auto";

    [Range(0, 64)] public int DeviceId { get; set; }

    /// <summary>
    /// GPU device ids, one worker and one engine (own sessions) each, all pulling from the same fair queue; empty: just
    /// <see cref="DeviceId"/>. Ignored with the CPU provider (one engine).
    /// </summary>
    public List<int> Devices { get; set; } = [];

    /// <summary>
    /// Engines (own sessions, own GPU gate) per GPU, each running its own shared runs from the same fair queue: while one
    /// run does its host work between UNet calls (sampler steps, VAE decoding, admitting joiners), the other's UNet calls
    /// keep the GPU busy. Each gets its share of the automatic memory budget. 0 = automatic:
    /// <see cref="AutomaticEnginesPerGpu"/> on CUDA; the CPU provider always has one (two would share the same cores).
    /// </summary>
    [Range(0, 4)] public int EnginesPerDevice { get; set; }

    /// <summary>Engines per GPU when <see cref="EnginesPerDevice"/> is 0.</summary>
    public const int AutomaticEnginesPerGpu = 1;

    /// <summary>Engines per device for the provider the first engine resolved ("CUDA" or "CPU").</summary>
    public int EffectiveEnginesPerDevice(string provider) =>
        !string.Equals(provider, "CUDA", StringComparison.OrdinalIgnoreCase) ? 1 : EnginesPerDevice > 0 ? EnginesPerDevice : AutomaticEnginesPerGpu;

    /// <summary>The device ids to serve on: <see cref="Devices"/>, or <see cref="DeviceId"/> alone.</summary>
    public IReadOnlyList<int> EffectiveDevices => Provider == "Cpu" || Devices.Count == 0 ? [DeviceId] : Devices;

    /// <summary>
    /// The device id of each generation engine, for the provider the first engine resolved ("CUDA" or "CPU"): every
    /// device <see cref="EffectiveEnginesPerDevice"/> times on CUDA; one engine on the CPU (also where Provider Auto found
    /// no CUDA, whatever devices are listed). The first is the app's shared engine.
    /// </summary>
    public IReadOnlyList<int> EngineDeviceIds(string provider) =>
        string.Equals(provider, "CUDA", StringComparison.OrdinalIgnoreCase)
            ? [.. EffectiveDevices.SelectMany(id => Enumerable.Repeat(id, EffectiveEnginesPerDevice(provider)))]
            : [EffectiveDevices[0]];

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (Devices.Any(d => d is < 0 or > 64))
            yield return new ValidationResult("Inference:Devices holds device ids from 0 to 64.", [nameof(Devices)]);
        if (Devices.Distinct().Count() != Devices.Count)
            yield return new ValidationResult("Inference:Devices lists a device twice; each device gets one worker.", [nameof(Devices)]);
        if (DecodeThread && !DecodeOffLoop)
            yield return new ValidationResult("Inference:DecodeThread needs Inference:DecodeOffLoop (decoding off the step loop's thread).", [nameof(DecodeThread)]);
    }

    /// <summary>CPU threads for the engine; 0 lets the runtime choose.</summary>
    [Range(0, 256)] public int Threads { get; set; }

    /// <summary>Let idle CPU threads busy-wait: faster on a dedicated machine, slower on shared cores (off by default).</summary>
    public bool AllowSpinning { get; set; }

    /// <summary>Bind the UNet's inputs once per change of a run's members (IOBinding); off only to measure the difference.</summary>
    public bool UseIoBinding { get; set; } = true;

    /// <summary>
    /// UNet shapes (rows rounded up to a power of two × latent size) that get a fixed-shape session of their own, each
    /// with its own copy of the weights; with <c>Cuda:CudaGraphs</c> (on by default) those replay CUDA graphs. 0 = off;
    /// -1 (the default) = automatic: 8 on CUDA for a UNet of at most 256 MB, off on CPU.
    /// </summary>
    [Range(-1, 64)] public int StaticUnetShapes { get; set; } = DiffusionGallery.Inference.InferenceOptions.AutomaticStaticUnetShapes;

    /// <summary>
    /// Most images one VAE decode call takes when a run's members finish at the same step: 1 (the default) = every image
    /// alone; 0 = automatic (64 at 128² down to 1 from 1024², padded to a power of two); see the engine's option.
    /// </summary>
    [Range(0, 64)] public int DecodeImagesPerCall { get; set; } = 1;

    /// <summary>Decode finished images on a second thread of each engine while the step loop goes on (off; see the engine's option).</summary>
    public bool DecodeOffLoop { get; set; }

    /// <summary>With <see cref="DecodeOffLoop"/>: decode on a thread of its own, apart from admissions (off; see the engine's option).</summary>
    public bool DecodeThread { get; set; }

    /// <summary>Admit jobs that join a running run on a second thread of each engine while the step loop goes on (off; see the engine's option).</summary>
    public bool AdmitOffLoop { get; set; }

    /// <summary>Decode through fixed-shape VAE decoder sessions, replayed as CUDA graphs on CUDA (off; see the engine's option).</summary>
    public bool StaticVaeDecoder { get; set; }

    /// <summary>Keep shared runs' latents on the device between steps, the sampler step in a graph beside the UNet (off; see the engine's option).</summary>
    public bool LatentsOnDevice { get; set; }

    /// <summary>
    /// Latent values one step's sampler work must reach before it is spread over the CPU's cores (0 = automatic,
    /// 1,048,576; 1 = whenever 4 or more jobs share the step); see the engine's option.
    /// </summary>
    [Range(0, int.MaxValue)] public int SamplerParallelFrom { get; set; }

    /// <summary>
    /// Memory (MB) a shared run may plan for its UNet activations, which bounds how many images it holds; 0 = automatic:
    /// 512 on the CPU, 16384 on CUDA (split among <see cref="EnginesPerDevice"/>).
    /// </summary>
    [Range(0, 1_048_576)] public int BatchMemoryBudgetMB { get; set; }

    /// <summary>How many models keep their sessions loaded at once.</summary>
    [Range(1, 16)] public int MaxLoadedModels { get; set; } = 1;

    /// <summary>CUDA provider settings, passed to the engine as they are (it validates them at start-up).</summary>
    public CudaProviderSettings Cuda { get; set; } = new();
}
