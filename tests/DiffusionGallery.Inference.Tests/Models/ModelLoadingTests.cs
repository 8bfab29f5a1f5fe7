using DiffusionGallery.Inference.Models;
using DiffusionGallery.Inference.Onnx;
using DiffusionGallery.Inference.Pipeline;
using DiffusionGallery.Inference.Tests.Support;

namespace DiffusionGallery.Inference.Tests.Models;

/// <summary>Broken copies of the bundled model must fail at load time with one error naming file and tensor.</summary>
public sealed class ModelLoadingTests : IDisposable
{
    private readonly string _root = Path.Combine(Path.GetTempPath(), $"dg-models-{Guid.NewGuid():N}");

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private string CopyModel(string name)
    {
        var source = TestPaths.RequireTinyModel();
        var target = Path.Combine(_root, name);
        foreach (var file in Directory.EnumerateFiles(source, "*", SearchOption.AllDirectories))
        {
            var destination = Path.Combine(target, Path.GetRelativePath(source, file));
            Directory.CreateDirectory(Path.GetDirectoryName(destination)!);
            File.Copy(file, destination);
        }

        return target;
    }

    private DiffusionImageGenerator Generator(int maxLoaded = 1) => new(new InferenceOptions
    {
        ModelsRoot = _root,
        Provider = ExecutionProviderPreference.Cpu,
        MaxLoadedModels = maxLoaded,
    });

    [Fact]
    public async Task MissingGraph_NamesTheFile()
    {
        var folder = CopyModel("broken");
        File.Delete(Path.Combine(folder, "vae_decoder", "model.onnx"));
        using var generator = Generator();

        var error = await Assert.ThrowsAsync<ModelLoadException>(() => generator.LoadModelAsync("broken", Ct));

        Assert.Equal("vae_decoder/model.onnx", error.File);
        Assert.Contains("missing", error.Message);
    }

    [Fact]
    public async Task MissingTokenizerFile_NamesTheFile()
    {
        var folder = CopyModel("broken");
        File.Delete(Path.Combine(folder, "tokenizer", "merges.txt"));
        using var generator = Generator();

        var error = await Assert.ThrowsAsync<ModelLoadException>(() => generator.LoadModelAsync("broken", Ct));

        Assert.Equal("tokenizer/merges.txt", error.File);
    }

    [Fact]
    public async Task GraphWithTheWrongInputs_NamesFileAndTensor()
    {
        var folder = CopyModel("broken");
        File.Copy(Path.Combine(folder, "vae_decoder", "model.onnx"), Path.Combine(folder, "unet", "model.onnx"), overwrite: true);
        using var generator = Generator();

        var error = await Assert.ThrowsAsync<ModelLoadException>(() => generator.LoadModelAsync("broken", Ct));

        Assert.Equal("unet/model.onnx", error.File);
        Assert.Equal("sample", error.Tensor);
        Assert.Contains("unet/model.onnx: tensor 'sample'", error.Message);
    }

    [Fact]
    public async Task TextEncoderInPlaceOfTheDecoder_IsRejectedForItsInput()
    {
        var folder = CopyModel("broken");
        File.Copy(Path.Combine(folder, "text_encoder", "model.onnx"), Path.Combine(folder, "vae_decoder", "model.onnx"), overwrite: true);
        using var generator = Generator();

        var error = await Assert.ThrowsAsync<ModelLoadException>(() => generator.LoadModelAsync("broken", Ct));

        Assert.Equal(("vae_decoder/model.onnx", "latent_sample"), (error.File, error.Tensor));
    }

    [Fact]
    public async Task CorruptGraph_IsReportedWithItsFile()
    {
        var folder = CopyModel("broken");
        File.WriteAllBytes(Path.Combine(folder, "text_encoder", "model.onnx"), [1, 2, 3, 4, 5]);
        using var generator = Generator();

        var error = await Assert.ThrowsAsync<ModelLoadException>(() => generator.LoadModelAsync("broken", Ct));

        Assert.Equal("text_encoder/model.onnx", error.File);
    }

    [Fact]
    public void MalformedManifest_IsReportedWithItsFile()
    {
        var folder = CopyModel("broken");
        File.WriteAllText(Path.Combine(folder, ModelManifest.FileName), "{ not json");

        var error = Assert.Throws<ModelLoadException>(() => ModelInfo.Read(folder));

        Assert.Equal(ModelManifest.FileName, error.File);
    }

    [Fact]
    public async Task Loading_IsCancellable()
    {
        CopyModel("tiny");
        using var generator = Generator();
        using var cts = new CancellationTokenSource();
        await cts.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => generator.LoadModelAsync("tiny", cts.Token));
        Assert.Empty(generator.LoadedModels);
    }

    [Fact]
    public async Task Models_AreListedSharedAndSwitched()
    {
        CopyModel("first");
        CopyModel("second");
        using var generator = Generator(maxLoaded: 1);

        Assert.Equal(["first", "second"], generator.Models.Select(m => m.Name));
        Assert.Equal(128, generator.Models[0].NativeWidth);
        var a = await generator.LoadModelAsync("first", Ct);
        Assert.Same(a, await generator.LoadModelAsync("first", Ct));
        await generator.LoadModelAsync("second", Ct);
        Assert.Equal(["second"], generator.LoadedModels);
        var result = await generator.GenerateAsync(new() { Prompt = "x", Model = "first", Steps = 1 }, null, Ct);
        Assert.Equal("first", result.ModelName);
        Assert.Equal(["first"], generator.LoadedModels);
    }

    [Fact]
    public void ModelWithoutManifest_GetsStableDiffusionDefaults()
    {
        var folder = CopyModel("sdlike");
        File.Delete(Path.Combine(folder, ModelManifest.FileName));

        var info = ModelInfo.Read(folder);

        Assert.Equal(ModelInfo.StableDiffusionScalingFactor, info.ScalingFactor);
        Assert.Equal(0.298f, info.PreviewFactors.Factors[0][0]);
        Assert.Equal(512, info.Descriptor.NativeWidth);
    }

    [Fact]
    public async Task LcmModel_AcceptsTheLcmSamplerAndVisitsItsTimesteps()
    {
        var folder = CopyModel("lcm");
        var config = Path.Combine(folder, "scheduler", "scheduler_config.json");
        File.WriteAllText(config, File.ReadAllText(config).Replace("PNDMScheduler", "LCMScheduler"));
        using var generator = Generator();
        var timesteps = new List<double>();
        var progress = new DiffusionGallery.Inference.Tests.Pipeline.CallbackProgress(p => timesteps.Add(p.Timestep));

        var result = await generator.GenerateAsync(new() { Prompt = "a red circle", Model = "lcm", Sampler = DiffusionGallery.Inference.Abstractions.SamplerKind.Lcm, Steps = 4, GuidanceScale = 1f }, progress, Ct);

        Assert.Equal([999.0, 759, 499, 259], timesteps);
        Assert.Equal(4, result.StepsRun);
        Assert.Equal("LCM", DiffusionGallery.Inference.Metadata.PngMetadata.Read(result.Images[0].Png).Parameters!["Sampler"]);
    }

    public void Dispose()
    {
        if (Directory.Exists(_root))
            Directory.Delete(_root, recursive: true);
    }
}
