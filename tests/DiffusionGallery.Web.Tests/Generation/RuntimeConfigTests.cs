using System.Text.Json;

namespace DiffusionGallery.Web.Tests.Generation;

/// <summary>The web app's runtime settings that its serving figures depend on (docs/benchmarks.md, 2026-12-07 14:44–15:09).</summary>
public sealed class RuntimeConfigTests
{
    [Fact]
    public void The_web_app_compiles_methods_with_loops_optimised_at_once()
    {
        // (the referenced app's runtime config is copied beside the tests)
        var path = Path.Combine(AppContext.BaseDirectory, "DiffusionGallery.Web.runtimeconfig.json");
        using var config = JsonDocument.Parse(File.ReadAllText(path));
        var properties = config.RootElement.GetProperty("runtimeOptions").GetProperty("configProperties");

        // With quick JIT for loops, the step loop, the sampler and CFG math and the tensor packing ran unoptimised code for
        // the first ~2,000 jobs of GPU load (sampler work per image 5-10x slower)
        Assert.True(properties.TryGetProperty("System.Runtime.TieredCompilation.QuickJitForLoops", out var quickJit), path);
        Assert.False(quickJit.GetBoolean());
    }
}
