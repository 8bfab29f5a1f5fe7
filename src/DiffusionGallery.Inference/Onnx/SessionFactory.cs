using Microsoft.ML.OnnxRuntime;

namespace DiffusionGallery.Inference.Onnx;

/// <summary>
/// Creates ONNX Runtime sessions for the chosen execution provider. The provider is resolved once:
/// Auto probes CUDA and falls back to CPU (recording why), Cuda throws when CUDA cannot be loaded.
/// </summary>
public sealed class SessionFactory
{
    public const string CudaName = "CUDA";
    public const string CpuName = "CPU";

    private readonly InferenceOptions _options;

    public SessionFactory(InferenceOptions options)
    {
        _options = options;
        (Provider, FallbackReason) = Resolve(options);
        if (FallbackReason is not null)
            options.Log?.Invoke($"CUDA execution provider unavailable ({FallbackReason}); using CPU.");
        options.Log?.Invoke($"ONNX Runtime {RuntimeVersion}, execution provider {Provider}.");
    }

    /// <summary>"CUDA" or "CPU".</summary>
    public string Provider { get; private set; }

    /// <summary>Why Auto fell back to CPU; null when it did not.</summary>
    public string? FallbackReason { get; private set; }

    /// <summary>
    /// With Auto, a CUDA session that cannot be created (the provider library loaded but no usable device) moves
    /// the factory to CPU for good; returns whether the caller should retry. Cuda and Cpu never fall back.
    /// </summary>
    public bool TryFallBackToCpu(Exception error)
    {
        if (_options.Provider != ExecutionProviderPreference.Auto || Provider != CudaName)
            return false;
        Provider = CpuName;
        FallbackReason = error.Message.Split('\n')[0];
        _options.Log?.Invoke($"CUDA session creation failed ({FallbackReason}); using CPU.");
        return true;
    }

    public static string RuntimeVersion => OrtEnv.Instance().GetVersionString();

    /// <summary>
    /// Session options for one graph; the caller owns (and disposes) them. <paramref name="cudaGraph"/> (CUDA only)
    /// asks ONNX Runtime to capture the graph's kernels once and replay them: every node must then run on CUDA and
    /// every input and output be bound at a fixed device address.
    /// </summary>
    /// <param name="exactFloat">CUDA only: no TF32 in fp32 matrix products and convolutions (a true fp32 reference).</param>
    public SessionOptions CreateSessionOptions(bool cudaGraph = false, bool exactFloat = false)
    {
        var options = Provider == CudaName ? CreateCudaOptions(_options, cudaGraph, exactFloat) : new SessionOptions();
        options.GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL;
        options.ExecutionMode = ExecutionMode.ORT_SEQUENTIAL;
        if (_options.IntraOpThreads > 0)
            options.IntraOpNumThreads = _options.IntraOpThreads;
        var spin = _options.AllowSpinning ? "1" : "0";
        options.AddSessionConfigEntry("session.intra_op.allow_spinning", spin);
        options.AddSessionConfigEntry("session.inter_op.allow_spinning", spin);
        return options;
    }

    private static (string Provider, string? Fallback) Resolve(InferenceOptions options)
    {
        if (options.Provider == ExecutionProviderPreference.Cpu)
            return (CpuName, null);
        _ = OrtEnv.Instance(); // the environment (and its logger) must exist before provider options are created
        try
        {
            using var probe = CreateCudaOptions(options);
            return (CudaName, null);
        }
        catch (Exception ex) when (ex is OnnxRuntimeException or DllNotFoundException or EntryPointNotFoundException)
        {
            if (options.Provider == ExecutionProviderPreference.Cuda)
                throw new ExecutionProviderUnavailableException(
                    $"The CUDA execution provider could not be loaded on device {options.DeviceId}: {ex.Message} " +
                    "(needs an NVIDIA GPU with the CUDA and cuDNN libraries ONNX Runtime was built for; use Provider=Auto or Cpu otherwise).", ex);
            return (CpuName, ex.Message.Split('\n')[0]);
        }
    }

    private static SessionOptions CreateCudaOptions(InferenceOptions options, bool cudaGraph = false, bool exactFloat = false)
    {
        using var cuda = new OrtCUDAProviderOptions();
        var settings = new Dictionary<string, string>
        {
            ["device_id"] = options.DeviceId.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["cudnn_conv_algo_search"] = options.Cuda.CudnnConvAlgoSearch,
            ["arena_extend_strategy"] = options.Cuda.ArenaExtendStrategy,
        };
        if (cudaGraph)
            settings["enable_cuda_graph"] = "1";
        if (exactFloat)
            settings["use_tf32"] = "0";
        if (options.Cuda.GpuMemoryLimitBytes > 0)
            settings["gpu_mem_limit"] = options.Cuda.GpuMemoryLimitBytes.ToString(System.Globalization.CultureInfo.InvariantCulture);
        cuda.UpdateOptions(settings);
        return SessionOptions.MakeSessionOptionWithCudaProvider(cuda);
    }
}
