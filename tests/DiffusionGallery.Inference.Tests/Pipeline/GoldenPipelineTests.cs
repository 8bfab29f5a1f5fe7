using System.Text.Json;
using DiffusionGallery.Inference.Abstractions;
using DiffusionGallery.Inference.Scheduling;
using DiffusionGallery.Inference.Tests.Support;
using DiffusionGallery.Inference.Tokenization;
using Microsoft.ML.OnnxRuntime;

namespace DiffusionGallery.Inference.Tests.Pipeline;

[Collection(TinyModelCollection.Name)]
public sealed class GoldenPipelineTests(TinyModelFixture fixture)
{
    [Fact]
    public void ExportCheck_EachGraphReproducesPyTorchOutputs()
    {
        using var doc = Golden.Load("export_check.json");
        var model = TestPaths.RequireTinyModel();
        var graphs = 0;
        foreach (var graph in doc.RootElement.GetProperty("graphs").EnumerateArray())
        {
            var file = graph.GetProperty("file").GetString()!;
            using var session = new InferenceSession(Path.Combine(model, file));
            var names = new List<string>();
            var values = new List<OrtValue>();
            try
            {
                foreach (var input in graph.GetProperty("inputs").EnumerateObject())
                {
                    var shape = input.Value.GetProperty("shape").EnumerateArray().Select(e => e.GetInt64()).ToArray();
                    var data = input.Value.GetProperty("values");
                    names.Add(input.Name);
                    values.Add(input.Value.GetProperty("dtype").GetString() == "int32"
                        ? OrtValue.CreateTensorValueFromMemory(data.EnumerateArray().Select(e => e.GetInt32()).ToArray(), shape)
                        : OrtValue.CreateTensorValueFromMemory(Golden.Floats(data), shape));
                }

                var outputs = graph.GetProperty("outputs").EnumerateObject().ToList();
                using var results = session.Run(new RunOptions(), names, values, outputs.Select(o => o.Name).ToList());
                for (var i = 0; i < outputs.Count; i++)
                {
                    var expected = Golden.Floats(outputs[i].Value.GetProperty("values"));
                    var actual = results[i].GetTensorDataAsSpan<float>();
                    Assert.Equal(expected.Length, actual.Length);
                    var maxError = 0.0;
                    for (var j = 0; j < expected.Length; j++)
                        maxError = Math.Max(maxError, Math.Abs(expected[j] - actual[j]));
                    Assert.True(maxError < 1e-4, $"{file} {outputs[i].Name}: max abs error {maxError}");
                }
            }
            finally
            {
                foreach (var v in values)
                    v.Dispose();
            }

            graphs++;
        }

        Assert.True(graphs >= 3, "export_check.json should cover text encoder, UNet and VAE");
    }

    [Fact]
    public void Embeddings_TokenizerAndTextEncoderMatchReference()
    {
        using var doc = Golden.Load("embeddings.json");
        var model = TestPaths.RequireTinyModel();
        var tokenizer = ClipTokenizer.Load(Path.Combine(model, "tokenizer"));
        using var session = new InferenceSession(Path.Combine(model, "text_encoder", "model.onnx"));
        foreach (var c in doc.RootElement.GetProperty("cases").EnumerateArray())
        {
            var ids = tokenizer.Encode(c.GetProperty("prompt").GetString()!).Ids;
            using var input = OrtValue.CreateTensorValueFromMemory(ids, [1, ClipTokenizer.MaxLength]);
            using var results = session.Run(new RunOptions(), ["input_ids"], [input], ["last_hidden_state"]);
            var expected = Golden.Floats(c.GetProperty("values"));
            var actual = results[0].GetTensorDataAsSpan<float>();
            Assert.Equal(expected.Length, actual.Length);
            for (var j = 0; j < expected.Length; j++)
                Assert.True(Math.Abs(expected[j] - actual[j]) < 1e-4, $"'{c.GetProperty("prompt")}' value {j}: {actual[j]} vs {expected[j]}");
        }
    }

    public static TheoryData<string> GoldenSamplers() => new("ddim", "euler", "euler_a", "dpmpp_2m", "lms");

    [Theory]
    [MemberData(nameof(GoldenSamplers))]
    public async Task Samples_FinalLatentMatchesReferenceSampler(string samplerName)
    {
        using var doc = Golden.Load("samples.json");
        var root = doc.RootElement;
        var golden = root.GetProperty("cases").EnumerateArray().FirstOrDefault(c => c.GetProperty("sampler").GetString() == samplerName);
        Assert.SkipWhen(golden.ValueKind == JsonValueKind.Undefined, $"samples.json has no {samplerName} case");
        Assert.True(SamplerNames.TryParse(samplerName, out var sampler));
        var request = new GenerationRequest
        {
            Prompt = root.GetProperty("prompt").GetString()!,
            NegativePrompt = root.GetProperty("negative").GetString()!,
            Seed = root.GetProperty("seed").GetInt64(),
            Steps = root.GetProperty("steps").GetInt32(),
            GuidanceScale = (float)root.GetProperty("guidance").GetDouble(),
            Width = root.GetProperty("width").GetInt32(),
            Height = root.GetProperty("height").GetInt32(),
            Sampler = sampler,
            PreviewInterval = 0,
        };

        using var run = await fixture.Generator.RunAsync(request, null, TestContext.Current.CancellationToken);

        var error = Golden.RelativeError(run.FinalLatents, Golden.Floats(golden.GetProperty("latent")));
        TestContext.Current.TestOutputHelper?.WriteLine($"{samplerName}: relative error {error:E3}");
        Assert.True(error < 1e-3, $"{samplerName}: relative error {error:E3}");

        // The decoded image agrees with the reference PNG up to rounding of a few pixels.
        var imagePath = TestPaths.RequireGolden(golden.GetProperty("image").GetString()!);
        using var expected = SixLabors.ImageSharp.Image.Load<SixLabors.ImageSharp.PixelFormats.Rgb24>(imagePath);
        var actual = run.Images[0];
        Assert.Equal((expected.Width, expected.Height), (actual.Width, actual.Height));
        var maxDifference = 0;
        for (var y = 0; y < actual.Height; y++)
        {
            for (var x = 0; x < actual.Width; x++)
            {
                var (e, a) = (expected[x, y], actual[x, y]);
                maxDifference = Math.Max(maxDifference, Math.Max(Math.Abs(e.R - a.R), Math.Max(Math.Abs(e.G - a.G), Math.Abs(e.B - a.B))));
            }
        }

        Assert.True(maxDifference <= 2, $"{samplerName}: max pixel difference {maxDifference}");
    }
}
