using DiffusionGallery.Inference.Abstractions;
using DiffusionGallery.Web.A1111;

namespace DiffusionGallery.Web.Tests.A1111;

public sealed class A1111SamplersTests
{
    private static readonly ModelDescriptor Model = new("m", "M", 128, 128, SamplerKind.DpmPlusPlus2M, true, 25, 7f, []);
    private static readonly ModelDescriptor EulerModel = new("e", "E", 128, 128, SamplerKind.Euler, false, 25, 7f, []);

    [Theory]
    [InlineData("DPM++ 2M", "Karras", SamplerKind.DpmPlusPlus2M, true)]
    [InlineData("DPM++ 2M", "Uniform", SamplerKind.DpmPlusPlus2M, false)]
    [InlineData("DPM++ 2M", "uniform", SamplerKind.DpmPlusPlus2M, false)]
    [InlineData("DPM++ 2M", null, SamplerKind.DpmPlusPlus2M, true)] // Automatic: Karras, as A1111 ≥ 1.9
    [InlineData("DPM++ 2M Karras", null, SamplerKind.DpmPlusPlus2M, true)] // pre-1.9 name
    [InlineData("DPM++ 2M Karras", "Automatic", SamplerKind.DpmPlusPlus2M, true)]
    [InlineData("Euler a", null, SamplerKind.EulerAncestral, false)]
    [InlineData("k_euler_a", "karras", SamplerKind.EulerAncestral, true)]
    [InlineData("Euler", "Karras", SamplerKind.Euler, true)]
    [InlineData("LMS Karras", null, SamplerKind.Lms, true)]
    [InlineData("DDIM", null, SamplerKind.Ddim, false)]
    [InlineData("ddim", "Karras", SamplerKind.Ddim, false)] // DDIM has no sigmas: Karras is dropped with a warning
    [InlineData("LCM", null, SamplerKind.Lcm, false)]
    public void Resolve_MapsA1111NamesAndSchedulers(string name, string? scheduler, SamplerKind kind, bool karras)
    {
        var warnings = new List<string>();
        Assert.Equal((kind, karras), A1111Samplers.Resolve(name, scheduler, EulerModel, warnings));
        Assert.Equal(name == "ddim" && scheduler == "Karras", warnings.Count == 1);
    }

    [Fact]
    public void NoSampler_TakesTheModelsRecommendation_UnknownSchedulerWarns_UnknownSamplerIsNull()
    {
        var warnings = new List<string>();
        Assert.Equal((SamplerKind.DpmPlusPlus2M, true), A1111Samplers.Resolve(null, null, Model, warnings));
        Assert.Equal((SamplerKind.Euler, false), A1111Samplers.Resolve("", null, EulerModel, warnings));
        Assert.Empty(warnings);
        Assert.Equal((SamplerKind.Euler, false), A1111Samplers.Resolve("Euler", "Exponential", EulerModel, warnings));
        Assert.Contains("Exponential", Assert.Single(warnings));
        Assert.Null(A1111Samplers.Resolve("UniPC", null, Model, warnings));
        Assert.Null(A1111Samplers.Resolve("DPM++ SDE Karras", null, Model, warnings));
    }

    [Fact]
    public void SamplerList_UsesA1111Names()
    {
        Assert.Equal(["DPM++ 2M", "Euler a", "Euler", "LMS", "DDIM", "DDPM", "LCM"], A1111Samplers.Samplers.Select(s => s.Name));
    }
}
