using System.ComponentModel.DataAnnotations;
using DiffusionGallery.Inference;

namespace DiffusionGallery.Web.Options;

/// <summary>The <c>Inference</c> section: where models live and how the engine runs.</summary>
public sealed class InferenceOptions
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

    /// <summary>CPU threads for the engine; 0 lets the runtime choose.</summary>
    [Range(0, 256)] public int Threads { get; set; }

    /// <summary>Let idle CPU threads busy-wait: faster on a dedicated machine, slower on shared cores (off by default).</summary>
    public bool AllowSpinning { get; set; }

    /// <summary>How many models keep their sessions loaded at once.</summary>
    [Range(1, 16)] public int MaxLoadedModels { get; set; } = 1;

    /// <summary>CUDA provider settings, passed to the engine as they are (it validates them at start-up).</summary>
    public CudaProviderSettings Cuda { get; set; } = new();
}
