using System.Diagnostics;
using System.Text.Json;
using DiffusionGallery.Inference.Abstractions;
using DiffusionGallery.Inference.Pipeline;
using DiffusionGallery.Inference.Tests.Support;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;

namespace DiffusionGallery.Inference.Tests.Models;

/// <summary>
/// tools/sd-optimize/fuse_attention.py replaces the bundled model's matmul/softmax attention (UNet self- and
/// cross-attention, the text encoder's causal attention) by ONNX Runtime's MultiHeadAttention; the engine must
/// load the fused graphs on CPU and give the same images. The packed QKV/KV layouts have no CPU kernel: their
/// interleaved weights are checked through tools/sd-optimize/check_fusion.py --unpack, which splits them back.
/// </summary>
public sealed class FusedAttentionTests : IDisposable
{
    private const string Python = "/usr/bin/python3";
    private readonly string _root = Path.Combine(Path.GetTempPath(), $"dg-fused-{Guid.NewGuid():N}");

    private static string Script => Path.Combine(TestPaths.RepositoryRoot, "tools", "sd-optimize", "fuse_attention.py");

    private static readonly GenerationRequest Request = new()
    {
        Prompt = "a large yellow star in the top left on a black background",
        Seed = 7,
        Steps = 8,
        Sampler = SamplerKind.Ddim,
        PreviewInterval = 0,
        BatchSize = 2,
    };

    private static (int ExitCode, string Error) RunFuse(params string[] args) => RunPython(Script, args);

    private static (int ExitCode, string Error) RunPython(string script, params string[] args)
    {
        Assert.SkipUnless(File.Exists(Python), $"{Python} is needed to run {Path.GetFileName(script)}");
        var start = new ProcessStartInfo(Python) { RedirectStandardError = true, RedirectStandardOutput = true };
        start.ArgumentList.Add(script);
        foreach (var arg in args)
            start.ArgumentList.Add(arg);
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEnd();
        process.WaitForExit();
        _ = output.Result;
        Assert.SkipWhen(error.Contains("No module named 'onnx'"), "the Python onnx package is needed to fuse the graphs");
        return (process.ExitCode, error);
    }

    private JsonElement Fuse(string folder, string graph, bool pack = false)
    {
        var model = Path.Combine(folder, graph, "model.onnx");
        var report = Path.Combine(_root, $"{graph}-{(pack ? "packed" : "separate")}.json");
        var (exitCode, error) = pack ? RunFuse(model, model, "--json", report) : RunFuse(model, model, "--no-pack", "--json", report);
        Assert.True(exitCode == 0, error);
        return JsonDocument.Parse(File.ReadAllText(report)).RootElement;
    }

    private static void CopyFolder(string source, string target)
    {
        foreach (var file in Directory.EnumerateFiles(source, "*", SearchOption.AllDirectories))
        {
            var to = Path.Combine(target, Path.GetRelativePath(source, file));
            Directory.CreateDirectory(Path.GetDirectoryName(to)!);
            File.Copy(file, to);
        }
    }

    private static async Task<float[]> FinalLatents(string modelFolder)
    {
        using var generator = new DiffusionImageGenerator(new InferenceOptions
        {
            ModelsRoot = Path.GetDirectoryName(modelFolder)!,
            DefaultModel = Path.GetFileName(modelFolder),
            Provider = ExecutionProviderPreference.Cpu,
        });
        using var run = await generator.RunAsync(Request, null, TestContext.Current.CancellationToken);
        return run.FinalLatents;
    }

    [Fact]
    public async Task FusedGraphs_GiveTheSameLatentsAsTheOriginal()
    {
        var source = TestPaths.RequireTinyModel();
        var fused = Path.Combine(_root, "tiny-fused");
        CopyFolder(source, fused);

        var unet = Fuse(fused, "unet");
        var text = Fuse(fused, "text_encoder");

        Assert.True(unet.GetProperty("fused").GetInt32() > 0, "no attention fused in the UNet");
        Assert.Equal(unet.GetProperty("softmax").GetInt32(), unet.GetProperty("fused").GetInt32());
        Assert.True(unet.GetProperty("cross").GetInt32() > 0 && unet.GetProperty("self").GetInt32() > 0);
        Assert.Equal(text.GetProperty("softmax").GetInt32(), text.GetProperty("with_mask").GetInt32());
        var graph = File.ReadAllBytes(Path.Combine(fused, "unet", "model.onnx"));
        Assert.True(graph.AsSpan().IndexOf("MultiHeadAttention"u8) >= 0, "the fused UNet has no MultiHeadAttention node");

        var expected = await FinalLatents(source);
        var actual = await FinalLatents(fused);

        var error = Golden.RelativeError(actual, expected);
        Assert.True(error < 1e-4, $"relative error {error:E2}");
    }

    [Fact]
    public async Task PackedProjections_SplitBackForCpu_GiveTheSameLatents()
    {
        var source = TestPaths.RequireTinyModel();
        var fused = Path.Combine(_root, "tiny-packed");
        CopyFolder(source, fused);

        var unet = Fuse(fused, "unet", pack: true);
        var model = Path.Combine(fused, "unet", "model.onnx");
        var (exitCode, error) = RunPython(Path.Combine(TestPaths.RepositoryRoot, "tools", "sd-optimize", "check_fusion.py"), "--unpack", model, model);
        Assert.True(exitCode == 0, error);

        Assert.True(unet.GetProperty("packed_qkv").GetInt32() > 0, "no self-attention packed");
        Assert.True(unet.GetProperty("packed_kv").GetInt32() > 0, "no cross-attention packed");
        var expected = await FinalLatents(source);
        var actual = await FinalLatents(fused);

        var relative = Golden.RelativeError(actual, expected);
        Assert.True(relative < 1e-4, $"relative error {relative:E2}");
    }

    [Theory]
    [InlineData("constant_shapes_scores_div_two_transposes", 1, 1, 0)]
    [InlineData("computed_shapes_scale_on_q_and_k_cross", 1, 0, 1)]
    [InlineData("biases_and_4d_mask", 1, 0, 0)]
    [InlineData("mask_under_the_scale_is_not_fused", 0, 0, 0)]
    public void OtherExportLayouts_FuseOnlyWhereEquivalent(string variant, int fused, int packedQkv, int packedKv)
    {
        var folder = Path.Combine(_root, "variants");
        var (exitCode, error) = RunPython(TestPaths.Fixture("make_attention_variants.py"), TestPaths.RepositoryRoot, folder);
        Assert.True(exitCode == 0, error);
        var entry = JsonDocument.Parse(File.ReadAllText(Path.Combine(folder, "manifest.json"))).RootElement.GetProperty(variant);

        Assert.Equal(fused, entry.GetProperty("separate").GetProperty("fused").GetInt32());
        Assert.Equal(packedQkv, entry.GetProperty("packed").GetProperty("packed_qkv").GetInt32());
        Assert.Equal(packedKv, entry.GetProperty("packed").GetProperty("packed_kv").GetInt32());
        Assert.Equal(1 - fused, entry.GetProperty("separate").GetProperty("unmatched").GetArrayLength());
        var random = new Random(5);
        var inputs = entry.GetProperty("inputs").EnumerateObject().Select(input =>
        {
            var dims = input.Value.EnumerateArray().Select(d => d.GetInt32()).ToArray();
            var data = Enumerable.Range(0, dims.Aggregate(1, (a, b) => a * b)).Select(_ => (float)(random.NextDouble() * 2 - 1)).ToArray();
            return NamedOnnxValue.CreateFromTensor(input.Name, new DenseTensor<float>(data, dims));
        }).ToList();
        var expected = Run(Path.Combine(folder, $"{variant}.onnx"), inputs);
        foreach (var fusedModel in new[] { "separate", "packed" })
        {
            var actual = Run(Path.Combine(folder, $"{variant}.{fusedModel}.onnx"), inputs);
            var maxDiff = expected.Zip(actual, (a, b) => Math.Abs(a - b)).Max();
            Assert.True(maxDiff < 1e-4, $"{variant}.{fusedModel}: max abs difference {maxDiff:E2}");
        }
    }

    private static float[] Run(string model, IReadOnlyCollection<NamedOnnxValue> inputs)
    {
        using var options = new SessionOptions { GraphOptimizationLevel = GraphOptimizationLevel.ORT_DISABLE_ALL };
        using var session = new InferenceSession(model, options);
        using var results = session.Run(inputs);
        return results.First().AsTensor<float>().ToArray();
    }

    [Fact]
    public void UnmatchedSoftmax_IsRefusedWithItsName()
    {
        // a graph whose only Softmax is no attention: fusing must fail loudly, not pass it over
        Assert.SkipUnless(File.Exists(Python), $"{Python} is needed to write the graph");
        Directory.CreateDirectory(_root);
        var model = Path.Combine(_root, "softmax.onnx");
        var start = new ProcessStartInfo(Python) { RedirectStandardError = true };
        start.ArgumentList.Add("-c");
        start.ArgumentList.Add(
            "import sys, onnx\nfrom onnx import helper as h, TensorProto as T\n" +
            "g = h.make_graph([h.make_node('Softmax', ['x'], ['y'], name='lonely', axis=-1)], 'g',\n" +
            "    [h.make_tensor_value_info('x', T.FLOAT, [2, 8])], [h.make_tensor_value_info('y', T.FLOAT, [2, 8])])\n" +
            "onnx.save(h.make_model(g, opset_imports=[h.make_opsetid('', 17)]), sys.argv[1])\n");
        start.ArgumentList.Add(model);
        using (var process = Process.Start(start)!)
        {
            var error = process.StandardError.ReadToEnd();
            process.WaitForExit();
            Assert.SkipWhen(error.Contains("No module named 'onnx'"), "the Python onnx package is needed to write the graph");
            Assert.True(process.ExitCode == 0, error);
        }

        var (exitCode, stderr) = RunFuse(model, Path.Combine(_root, "out.onnx"));

        Assert.Equal(2, exitCode);
        Assert.Contains("lonely", stderr);
        Assert.Contains("not fused", stderr);
    }

    public void Dispose()
    {
        if (Directory.Exists(_root))
            Directory.Delete(_root, recursive: true);
    }
}
