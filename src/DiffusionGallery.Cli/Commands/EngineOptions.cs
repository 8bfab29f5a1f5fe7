using System.CommandLine;
using DiffusionGallery.Inference;
using DiffusionGallery.Inference.Pipeline;

namespace DiffusionGallery.Cli.Commands;

/// <summary>Options shared by commands that run models: where models are and which provider to use.</summary>
internal sealed class EngineOptions
{
    public Option<string> Model { get; } = new("--model", "-m")
    {
        Description = "Model folder path, or a model name under --models (default: the first model found).",
    };

    public Option<string> ModelsRoot { get; } = new("--models")
    {
        Description = "Folder containing model folders.",
        DefaultValueFactory = _ => "models",
    };

    public Option<ExecutionProviderPreference> Provider { get; } = new("--provider")
    {
        Description = "Execution provider: Auto (CUDA if available, else CPU), Cuda, Cpu.",
        DefaultValueFactory = _ => ExecutionProviderPreference.Auto,
    };

    public Option<int> Device { get; } = new("--device") { Description = "CUDA device id.", DefaultValueFactory = _ => 0 };

    public Option<int> Threads { get; } = new("--threads") { Description = "CPU intra-op threads (0 = ONNX Runtime default).", DefaultValueFactory = _ => 0 };

    public Option<bool> Spin { get; } = new("--spin") { Description = "Let idle ONNX Runtime CPU threads busy-wait (faster on an otherwise idle machine)." };

    public Option<bool> NoIoBinding { get; } = new("--no-io-binding")
    {
        Description = "Pass the UNet's inputs at every call instead of binding them once per change of a run's members (to measure the difference).",
    };

    public Option<int> StaticUnetShapes { get; } = new("--static-unet-shapes")
    {
        Description = "How many UNet shapes (rows rounded up to a power of two × latent size) get a fixed-shape session of their own "
            + "(0 = off; -1, the default = automatic: on CUDA 8 for a UNet of at most 256 MB and 1 for a larger one, off on CPU).",
        DefaultValueFactory = _ => DiffusionGallery.Inference.InferenceOptions.AutomaticStaticUnetShapes,
    };

    public Option<bool> NoCudaGraphs { get; } = new("--no-cuda-graphs")
    {
        Description = "Run the fixed-shape UNet sessions without replaying them as CUDA graphs (CUDA graphs are on by default where those sessions are).",
    };

    public Option<bool> LatentsOnDevice { get; } = new("--latents-on-device")
    {
        Description = "Keep the latents where the fixed-shape UNet runs between steps (the sampler step in a graph beside the UNet; DPM++ 2M and Euler).",
    };

    public Option<string> CudnnSearch { get; } = new("--cudnn-conv-algo-search")
    {
        Description = "cuDNN convolution algorithm search: EXHAUSTIVE, HEURISTIC or DEFAULT.",
        DefaultValueFactory = _ => "HEURISTIC",
    };

    public Option<long> GpuMemLimit { get; } = new("--gpu-mem-limit") { Description = "CUDA memory arena limit in bytes (0 = none).", DefaultValueFactory = _ => 0 };

    public void AddTo(Command command)
    {
        command.Add(Model);
        command.Add(ModelsRoot);
        command.Add(Provider);
        command.Add(Device);
        command.Add(Threads);
        command.Add(Spin);
        command.Add(NoIoBinding);
        command.Add(StaticUnetShapes);
        command.Add(NoCudaGraphs);
        command.Add(LatentsOnDevice);
        command.Add(CudnnSearch);
        command.Add(GpuMemLimit);
    }

    /// <summary>Builds the generator; a --model given as a folder path becomes (its parent, its name).</summary>
    public (DiffusionImageGenerator Generator, string? ModelName) CreateGenerator(ParseResult parse, bool verbose = true)
    {
        var model = parse.GetValue(Model);
        var root = parse.GetValue(ModelsRoot)!;
        if (model is not null && Directory.Exists(model))
        {
            var full = Path.GetFullPath(Path.TrimEndingDirectorySeparator(model));
            root = Path.GetDirectoryName(full)!;
            model = Path.GetFileName(full);
        }

        var options = new InferenceOptions
        {
            ModelsRoot = root,
            DefaultModel = model,
            Provider = parse.GetValue(Provider),
            DeviceId = parse.GetValue(Device),
            IntraOpThreads = parse.GetValue(Threads),
            AllowSpinning = parse.GetValue(Spin),
            UseIoBinding = !parse.GetValue(NoIoBinding),
            StaticUnetShapes = parse.GetValue(StaticUnetShapes),
            LatentsOnDevice = parse.GetValue(LatentsOnDevice),
            Cuda = new CudaProviderSettings
            {
                CudnnConvAlgoSearch = parse.GetValue(CudnnSearch)!,
                GpuMemoryLimitBytes = parse.GetValue(GpuMemLimit),
                CudaGraphs = !parse.GetValue(NoCudaGraphs),
            },
            Log = verbose ? message => Console.Error.WriteLine($"[engine] {message}") : null,
        };
        return (new DiffusionImageGenerator(options), model);
    }
}
