using DiffusionGallery.Inference.Onnx;
using DiffusionGallery.Inference.Tests.Support;

namespace DiffusionGallery.Inference.Tests.Onnx;

/// <summary>UnetComparison (the CLI's compare-unet): variants of the bundled UNet against it on fixed inputs, CPU.</summary>
public sealed class UnetComparisonTests : IDisposable
{
    private readonly string _root = Path.Combine(Path.GetTempPath(), $"dg-compare-{Guid.NewGuid():N}");
    private static readonly SessionFactory Cpu = new(new InferenceOptions { ModelsRoot = ".", Provider = ExecutionProviderPreference.Cpu });
    private static string Unet(string folder) => Path.Combine(folder, "unet", "model.onnx");

    [Fact]
    public void TheSameGraph_DiffersByNothing()
    {
        var unet = Unet(TestPaths.RequireTinyModel());

        var result = Assert.Single(UnetComparison.Compare(Cpu, unet, [("same", unet)], batch: 2, latentSize: 16));

        Assert.Equal(("same", 0d, 0d, true, null), (result.Name, result.MaxAbsDiff, result.RelativeL2, result.Finite, result.Error));
        Assert.True(result.MaxAbsReference > 0.1, "the reference output is not all zeros");
    }

    [Fact]
    public void Fp16Inputs_DifferALittle_AScalarTimestepNotAtAll_AndAnotherGraphIsReportedNotThrown()
    {
        var model = TestPaths.RequireTinyModel();
        var fp16 = GraphVariants.Make(_root, "fp16-int64");
        var scalar = GraphVariants.Make(_root, "scalar-timestep");

        var results = UnetComparison.Compare(Cpu, Unet(model), [("fp16", Unet(fp16)), ("scalar", Unet(scalar)),
            ("text", Path.Combine(model, "text_encoder", "model.onnx"))], batch: 2, latentSize: 16);

        Assert.Equal(["fp16", "scalar", "text"], results.Select(r => r.Name));
        Assert.InRange(results[0].RelativeL2, 1e-6, 1e-2); // fp16 rounding of the inputs and the output, within the 1e-2
        Assert.True(results[0].Finite);
        Assert.InRange(results[1].RelativeL2, 0, 1e-6);
        Assert.Contains("input_ids", results[2].Error);
    }

    [Fact]
    public void AMissingGraph_IsAClearError() =>
        Assert.Contains("No UNet graph at", Assert.Throws<FileNotFoundException>(() =>
            UnetComparison.Compare(Cpu, Path.Combine(_root, "missing.onnx"), [])).Message);

    public void Dispose()
    {
        if (Directory.Exists(_root))
            Directory.Delete(_root, recursive: true);
    }
}
