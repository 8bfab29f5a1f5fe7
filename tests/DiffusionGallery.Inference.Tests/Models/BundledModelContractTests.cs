using System.Text.Json;
using DiffusionGallery.Inference.Tests.Support;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;

namespace DiffusionGallery.Inference.Tests.Models;

/// <summary>The committed models/tiny-shapes graphs, opened straight with ONNX Runtime: the SD tensor names, ranks, dtypes and fixed dimensions.</summary>
public sealed class BundledModelContractTests
{
    private const int TextDim = 128;

    public static TheoryData<string, string, TensorElementType, string> Inputs => new()
    {
        { "text_encoder/model.onnx", "input_ids", TensorElementType.Int32, "?,77" },
        { "unet/model.onnx", "sample", TensorElementType.Float, "?,4,?,?" },
        { "unet/model.onnx", "timestep", TensorElementType.Float, "?" },
        { "unet/model.onnx", "encoder_hidden_states", TensorElementType.Float, $"?,77,{TextDim}" },
        { "vae_decoder/model.onnx", "latent_sample", TensorElementType.Float, "?,4,?,?" },
        { "vae_encoder/model.onnx", "sample", TensorElementType.Float, "?,3,?,?" },
    };

    public static TheoryData<string, string, TensorElementType, string> Outputs => new()
    {
        { "text_encoder/model.onnx", "last_hidden_state", TensorElementType.Float, $"?,77,{TextDim}" },
        { "text_encoder/model.onnx", "pooler_output", TensorElementType.Float, $"?,{TextDim}" },
        { "unet/model.onnx", "out_sample", TensorElementType.Float, "?,4,?,?" },
        { "vae_decoder/model.onnx", "sample", TensorElementType.Float, "?,3,?,?" },
        { "vae_encoder/model.onnx", "latent_sample", TensorElementType.Float, "?,4,?,?" },
    };

    [Theory]
    [MemberData(nameof(Inputs))]
    public void Input_HasTheStableDiffusionContract(string file, string name, TensorElementType type, string dims)
    {
        using var session = Open(file);
        Assert.True(session.InputMetadata.ContainsKey(name), $"{file} has no input '{name}' (has {string.Join(", ", session.InputMetadata.Keys)})");
        AssertTensor(session.InputMetadata[name], type, dims);
    }

    [Theory]
    [MemberData(nameof(Outputs))]
    public void Output_HasTheStableDiffusionContract(string file, string name, TensorElementType type, string dims)
    {
        using var session = Open(file);
        Assert.True(session.OutputMetadata.ContainsKey(name), $"{file} has no output '{name}' (has {string.Join(", ", session.OutputMetadata.Keys)})");
        AssertTensor(session.OutputMetadata[name], type, dims);
    }

    [Fact]
    public void Folder_FitsTheSizeBudgetAndDescribesItself()
    {
        var root = TestPaths.RequireTinyModel();
        var files = Directory.EnumerateFiles(root, "*", SearchOption.AllDirectories).Select(f => new FileInfo(f)).ToList();
        Assert.True(files.Sum(f => f.Length) <= 24_000_000, "the bundled model must stay within 24 MB");
        Assert.All(files, f => Assert.True(f.Length <= 16 * 1024 * 1024, $"{f.Name} is over 16 MiB"));

        using var info = JsonDocument.Parse(File.ReadAllText(Path.Combine(root, "diffusion_gallery.json")));
        Assert.Equal(128, info.RootElement.GetProperty("native_width").GetInt32());
        Assert.Equal(4, info.RootElement.GetProperty("preview").GetProperty("factors").GetArrayLength());
        using var scheduler = JsonDocument.Parse(File.ReadAllText(Path.Combine(root, "scheduler", "scheduler_config.json")));
        Assert.Equal("scaled_linear", scheduler.RootElement.GetProperty("beta_schedule").GetString());
        Assert.Equal("epsilon", scheduler.RootElement.GetProperty("prediction_type").GetString());
    }

    private static InferenceSession Open(string file) => new(Path.Combine(TestPaths.RequireTinyModel(), file));

    private static void AssertTensor(NodeMetadata meta, TensorElementType type, string dims)
    {
        Assert.True(meta.IsTensor);
        Assert.Equal(type, meta.ElementDataType);
        // dynamic dimensions are -1 in ONNX Runtime's metadata
        Assert.Equal(dims, string.Join(",", meta.Dimensions.Select(d => d < 0 ? "?" : d.ToString(System.Globalization.CultureInfo.InvariantCulture))));
    }
}
