using DiffusionGallery.Inference.Abstractions;
using DiffusionGallery.Inference.Models;

namespace DiffusionGallery.Inference.Tests.Models;

/// <summary>The "recommended" section of diffusion_gallery.json, read from a folder holding only the manifest.</summary>
public sealed class ModelRecommendationTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("dg-manifest-").FullName;

    private ModelDescriptor Read(string recommended)
    {
        File.WriteAllText(Path.Combine(_folder, ModelManifest.FileName), $$"""{ "display_name": "Test", "recommended": {{recommended}} }""");
        return ModelInfo.Read(_folder).Descriptor;
    }

    [Fact]
    public void Karras_True_IsRecommendedWithTheSampler()
    {
        var model = Read("""{ "sampler": "dpmpp_2m", "karras": true, "steps": 30 }""");

        Assert.Equal(SamplerKind.DpmPlusPlus2M, model.RecommendedSampler);
        Assert.True(model.RecommendedKarras);
        Assert.Equal(30, model.RecommendedSteps);
    }

    [Fact]
    public void Karras_Absent_IsFalse()
    {
        var model = Read("""{ "sampler": "euler_a", "steps": 20 }""");

        Assert.Equal(SamplerKind.EulerAncestral, model.RecommendedSampler);
        Assert.False(model.RecommendedKarras);
    }

    [Fact]
    public void Karras_False_IsFalse() => Assert.False(Read("""{ "sampler": "lms", "karras": false }""").RecommendedKarras);

    [Fact]
    public void Karras_WithASamplerWithoutSigmas_IsFalse()
    {
        var model = Read("""{ "sampler": "ddim", "karras": true }""");

        Assert.Equal(SamplerKind.Ddim, model.RecommendedSampler);
        Assert.False(model.RecommendedKarras);
    }

    [Fact]
    public void Manifest_ParsesTheSnakeCaseKey() =>
        Assert.True(ModelManifest.Parse("""{ "recommended": { "sampler": "dpmpp_2m", "karras": true } }""").Recommended?.Karras);

    public void Dispose() => Directory.Delete(_folder, recursive: true);
}
