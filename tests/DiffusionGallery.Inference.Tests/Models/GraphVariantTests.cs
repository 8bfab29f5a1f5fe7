using DiffusionGallery.Inference.Abstractions;
using DiffusionGallery.Inference.Pipeline;
using DiffusionGallery.Inference.Tests.Support;

namespace DiffusionGallery.Inference.Tests.Models;

/// <summary>
/// The same model with fp16 tensors, int64 input ids / timesteps, or a scalar timestep (graphs rewritten by
/// Fixtures/make_variant_model.py) must load and give the fp32 result: dtypes and ranks come from graph metadata.
/// </summary>
public sealed class GraphVariantTests : IDisposable
{
    private readonly string _root = Path.Combine(Path.GetTempPath(), $"dg-variants-{Guid.NewGuid():N}");

    private static readonly GenerationRequest Request = new()
    {
        Prompt = "a large yellow star in the top left on a black background",
        Seed = 42,
        Steps = 8,
        Sampler = SamplerKind.Euler, // fractional timesteps: the int64 variant must round them
        PreviewInterval = 0,
    };

    private string MakeVariant(string variant) => GraphVariants.Make(_root, variant);

    private static async Task<float[]> FinalLatents(string modelFolder, GenerationRequest request)
    {
        using var generator = new DiffusionImageGenerator(new InferenceOptions
        {
            ModelsRoot = Path.GetDirectoryName(modelFolder)!,
            DefaultModel = Path.GetFileName(modelFolder),
            Provider = ExecutionProviderPreference.Cpu,
        });
        using var run = await generator.RunAsync(request, null, TestContext.Current.CancellationToken);
        return run.FinalLatents;
    }

    [Fact]
    public async Task Fp16GraphsWithInt64Inputs_MatchTheFp32Model()
    {
        var variant = MakeVariant("fp16-int64");

        var expected = await FinalLatents(TestPaths.TinyModel, Request with { Sampler = SamplerKind.Ddim });
        var actual = await FinalLatents(variant, Request with { Sampler = SamplerKind.Ddim });

        var error = Golden.RelativeError(actual, expected);
        Assert.True(error < 2e-2, $"relative error {error:E2}");
        Assert.True(error > 0, "fp16 should not be bit-identical to fp32; was the variant really used?");
    }

    [Fact]
    public async Task Int64Timestep_RoundsFractionalEulerTimesteps()
    {
        var variant = MakeVariant("fp16-int64");

        var latents = await FinalLatents(variant, Request);

        Assert.All(latents, v => Assert.True(float.IsFinite(v)));
    }

    [Fact]
    public async Task ScalarTimestep_GivesTheSameResult()
    {
        var variant = MakeVariant("scalar-timestep");

        var expected = await FinalLatents(TestPaths.TinyModel, Request with { BatchSize = 2 });
        var actual = await FinalLatents(variant, Request with { BatchSize = 2 });

        Assert.True(Golden.RelativeError(actual, expected) < 1e-5);
    }

    public void Dispose()
    {
        if (Directory.Exists(_root))
            Directory.Delete(_root, recursive: true);
    }
}
