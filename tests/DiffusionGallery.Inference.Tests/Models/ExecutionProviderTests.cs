using DiffusionGallery.Inference.Onnx;
using DiffusionGallery.Inference.Tests.Support;

namespace DiffusionGallery.Inference.Tests.Models;

public sealed class ExecutionProviderTests
{
    private static InferenceOptions Options(ExecutionProviderPreference provider) => new()
    {
        ModelsRoot = TestPaths.ModelsRoot,
        Provider = provider,
    };

    private static bool CudaWorks() => new SessionFactory(Options(ExecutionProviderPreference.Auto)).Provider == SessionFactory.CudaName;

    [Fact]
    public void Cpu_IsUsedWhenAsked()
    {
        var factory = new SessionFactory(Options(ExecutionProviderPreference.Cpu));

        Assert.Equal("CPU", factory.Provider);
        Assert.Null(factory.FallbackReason);
    }

    [Fact]
    public void Auto_WithoutCuda_FallsBackToCpuAndSaysWhy()
    {
        Assert.SkipWhen(CudaWorks(), "this machine has a working CUDA provider");
        var messages = new List<string>();
        var options = Options(ExecutionProviderPreference.Auto);
        options.Log = messages.Add;

        var factory = new SessionFactory(options);

        Assert.Equal("CPU", factory.Provider);
        Assert.False(string.IsNullOrWhiteSpace(factory.FallbackReason));
        Assert.Contains(messages, m => m.Contains("using CPU"));
    }

    [Fact]
    public void Cuda_WithoutCuda_FailsClearly()
    {
        Assert.SkipWhen(CudaWorks(), "this machine has a working CUDA provider");

        var error = Assert.Throws<ExecutionProviderUnavailableException>(() => new SessionFactory(Options(ExecutionProviderPreference.Cuda)));

        Assert.Contains("CUDA execution provider could not be loaded", error.Message);
    }

    [Fact]
    public void InvalidOptions_ListEveryProblem()
    {
        var options = new InferenceOptions
        {
            ModelsRoot = "/definitely/not/here",
            IntraOpThreads = -1,
            MaxBatchSize = 0,
            Cuda = new CudaProviderSettings { CudnnConvAlgoSearch = "FAST" },
        };

        var errors = options.Validate();

        Assert.Equal(4, errors.Count);
        Assert.Throws<ArgumentException>(options.ThrowIfInvalid);
        Assert.Empty(Options(ExecutionProviderPreference.Cpu).Validate());
    }
}
