using System.Diagnostics;
using System.Text.Json;
using System.Text.Json.Nodes;
using DiffusionGallery.Inference.Metadata;
using DiffusionGallery.Inference.Tests.Support;

namespace DiffusionGallery.Inference.Tests.Cli;

/// <summary>Runs the command-line tool as a separate process, as a user would.</summary>
public sealed class CliTests : IDisposable
{
    private readonly string _out = Path.Combine(Path.GetTempPath(), $"dg-cli-{Guid.NewGuid():N}");

    private static string CliDll()
    {
        var configuration = new DirectoryInfo(Path.TrimEndingDirectorySeparator(AppContext.BaseDirectory)).Parent!.Name; // bin/<Configuration>/net10.0
        var path = Path.Combine(TestPaths.RepositoryRoot, "src", "DiffusionGallery.Cli", "bin", configuration, "net10.0", "DiffusionGallery.Cli.dll");
        Assert.SkipUnless(File.Exists(path), $"CLI not built at {path}");
        return path;
    }

    private static (int ExitCode, string Out, string Err) Run(params string[] args)
    {
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = TestPaths.RepositoryRoot };
        start.ArgumentList.Add(CliDll());
        foreach (var a in args)
            start.ArgumentList.Add(a);
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        Assert.True(process.WaitForExit(TimeSpan.FromMinutes(2)), "CLI did not finish");
        return (process.ExitCode, stdout.Result, stderr.Result);
    }

    [Fact]
    public void Generate_WritesPngsWithMetadata_AndMetadataPrintsThem()
    {
        var model = TestPaths.RequireTinyModel();

        var (code, stdout, stderr) = Run("generate", "--model", model, "--provider", "cpu", "--steps", "3", "--seed", "77", "--batch", "2",
            "--prompt", "a blue square", "--negative", "red", "--out", _out);

        Assert.True(code == 0, stderr);
        var files = stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        Assert.Equal(2, files.Length);
        var metadata = PngMetadata.Read(File.ReadAllBytes(files[1]));
        Assert.Equal((78UL, "a blue square", "red", 3), (metadata.Generation!.Seed, metadata.Parameters!.Prompt, metadata.Parameters.NegativePrompt, metadata.Generation.Steps));

        var printed = Run("metadata", files[0]);
        Assert.Equal(0, printed.ExitCode);
        Assert.StartsWith("a blue square\nNegative prompt: red\nSteps: 3, Sampler: DPM++ 2M, CFG scale: 7, Seed: 77", printed.Out);
    }

    [Fact]
    public void Generate_WithoutASampler_UsesTheModelsRecommendation_AndANamedSamplerAsGiven()
    {
        var model = TestPaths.RequireTinyModel();

        var recommended = Run("generate", "--model", model, "--provider", "cpu", "--steps", "2", "--out", Path.Combine(_out, "a"));
        var named = Run("generate", "--model", model, "--provider", "cpu", "--steps", "2", "--sampler", "dpmpp_2m", "--out", Path.Combine(_out, "b"));

        Assert.True(recommended.ExitCode == 0, recommended.Err);
        Assert.True(named.ExitCode == 0, named.Err);
        var first = ParametersText(recommended.Out.Trim());
        var second = ParametersText(named.Out.Trim());
        Assert.Contains("Sampler: DPM++ 2M", first);
        Assert.Contains("Schedule type: Karras", first); // the bundled model recommends DPM++ 2M Karras
        Assert.Contains("Sampler: DPM++ 2M", second);
        Assert.DoesNotContain("Karras", second);
    }

    private static string ParametersText(string png) =>
        PngMetadata.Read(File.ReadAllBytes(png)).TextChunks.Single(c => c.Key == PngMetadata.ParametersKeyword).Value;

    [Fact]
    public void Generate_WithBadSettings_FailsWithAMessageNotAStackTrace()
    {
        var model = TestPaths.RequireTinyModel();

        var steps = Run("generate", "--model", model, "--provider", "cpu", "--steps", "0", "--out", _out);
        var sampler = Run("generate", "--model", model, "--provider", "cpu", "--sampler", "heun", "--out", _out);

        Assert.Equal(2, steps.ExitCode);
        Assert.Contains("Steps must be between 1 and 150", steps.Err);
        Assert.DoesNotContain("   at ", steps.Err);
        Assert.Equal(2, sampler.ExitCode);
        Assert.Contains("Unknown sampler 'heun'", sampler.Err);
    }

    [Fact]
    public void Info_ListsGraphsAndTensors()
    {
        var model = TestPaths.RequireTinyModel();

        var (code, stdout, stderr) = Run("info", "--model", model, "--provider", "cpu");

        Assert.True(code == 0, stderr);
        Assert.Contains("unet/model.onnx", stdout);
        Assert.Matches(@"in\s+timestep\s+float32", stdout);
        Assert.Matches(@"out\s+last_hidden_state\s+float32\s+\[\w+,77,128\]", stdout);
    }

    [Fact]
    public void Info_ShowsTheRecommendedKarrasSchedule()
    {
        var source = TestPaths.RequireTinyModel();
        var model = Path.Combine(_out, "karras");
        foreach (var file in Directory.EnumerateFiles(source, "*", SearchOption.AllDirectories))
        {
            var destination = Path.Combine(model, Path.GetRelativePath(source, file));
            Directory.CreateDirectory(Path.GetDirectoryName(destination)!);
            File.Copy(file, destination);
        }
        var manifestPath = Path.Combine(model, DiffusionGallery.Inference.Models.ModelManifest.FileName);
        var manifest = JsonNode.Parse(File.ReadAllText(manifestPath))!.AsObject();
        manifest["recommended"] = new JsonObject { ["sampler"] = "dpmpp_2m", ["karras"] = true, ["steps"] = 21 };
        File.WriteAllText(manifestPath, manifest.ToJsonString());

        var (code, stdout, stderr) = Run("info", "--model", model, "--provider", "cpu");

        Assert.True(code == 0, stderr);
        Assert.Contains("recommend  DpmPlusPlus2M Karras, 21 steps", stdout);
    }

    [Fact]
    public void Bench_WritesStageTimingsAndTheShareOutsideOnnxRuntime()
    {
        var model = TestPaths.RequireTinyModel();
        Directory.CreateDirectory(_out);
        var json = Path.Combine(_out, "bench.json");

        var (code, stdout, stderr) = Run("bench", "--model", model, "--provider", "cpu", "--steps", "2", "--runs", "2", "--warmup", "1", "--json", json);

        Assert.True(code == 0, stderr);
        Assert.Contains("outside ORT", stdout);
        using var doc = JsonDocument.Parse(File.ReadAllText(json));
        var root = doc.RootElement;
        Assert.Equal(2, root.GetProperty("runs").GetInt32());
        var share = root.GetProperty("outside_onnx_runtime_share").GetDouble();
        Assert.InRange(share, 0, 1);
        var mean = root.GetProperty("mean_milliseconds");
        Assert.True(mean.GetProperty("unet").GetDouble() > 0);
        Assert.Equal(mean.GetProperty("unet").GetDouble() / 2, root.GetProperty("unet_per_step_milliseconds").GetDouble(), 6);
    }

    [Fact]
    public void BenchShared_PrintsImagesPerSecondOfTheSharedRunAndOneByOne()
    {
        var model = TestPaths.RequireTinyModel();

        var (code, stdout, stderr) = Run("bench", "--model", model, "--provider", "cpu", "--steps", "2", "--runs", "1", "--warmup", "0", "--shared", "3");

        Assert.True(code == 0, stderr);
        Assert.Contains("3 one-image requests", stdout);
        Assert.Matches(@"shared run\s+\d+\.\d+ images/s\s+\(largest UNet call: 3 images\)", stdout);
        Assert.Matches(@"one by one\s+\d+\.\d+ images/s", stdout);
    }

    [Fact]
    public void Metadata_OnAFileWithoutParameters_SaysSo()
    {
        Directory.CreateDirectory(_out);
        var path = Path.Combine(_out, "plain.png");
        using (var image = new SixLabors.ImageSharp.Image<SixLabors.ImageSharp.PixelFormats.Rgb24>(4, 4))
            File.WriteAllBytes(path, DiffusionGallery.Inference.Imaging.PngWriter.Encode(image));

        var (code, _, stderr) = Run("metadata", path);

        Assert.Equal(1, code);
        Assert.Contains("no generation parameters", stderr);
    }

    public void Dispose()
    {
        if (Directory.Exists(_out))
            Directory.Delete(_out, recursive: true);
    }
}
