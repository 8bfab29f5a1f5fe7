namespace DiffusionGallery.Inference.Tests.Support;

/// <summary>Locates the repository (by DiffusionGallery.sln) so tests read fixtures, golden files and models in place.</summary>
internal static class TestPaths
{
    private static readonly Lazy<string> Root = new(() =>
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "DiffusionGallery.sln")))
            dir = dir.Parent;
        return dir?.FullName ?? throw new InvalidOperationException("repository root (DiffusionGallery.sln) not found");
    });

    public static string RepositoryRoot => Root.Value;
    public static string TestProject => Path.Combine(RepositoryRoot, "tests", "DiffusionGallery.Inference.Tests");
    public static string Fixtures => Path.Combine(TestProject, "Fixtures");
    /// <summary>Golden vectors; <c>DG_GOLDEN_DIR</c> overrides the folder (for trying freshly generated ones).</summary>
    public static string Golden => Environment.GetEnvironmentVariable("DG_GOLDEN_DIR") is { Length: > 0 } dir ? dir : Path.Combine(TestProject, "Golden");
    public static string ModelsRoot => Path.Combine(RepositoryRoot, "models");
    /// <summary>The bundled model; <c>DG_TINY_MODEL</c> overrides the folder.</summary>
    public static string TinyModel => Environment.GetEnvironmentVariable("DG_TINY_MODEL") is { Length: > 0 } dir ? dir : Path.Combine(ModelsRoot, "tiny-shapes");

    public static string Fixture(string name) => Path.Combine(Fixtures, name);

    /// <summary>Path of a golden file (committed; written by tools/tiny-model/reference.py goldens).</summary>
    public static string RequireGolden(string name)
    {
        var path = Path.Combine(Golden, name);
        Assert.True(File.Exists(path), $"golden file Golden/{name} is missing (tools/tiny-model/reference.py goldens writes it)");
        return path;
    }

    /// <summary>The bundled model folder (committed under models/tiny-shapes).</summary>
    public static string RequireTinyModel()
    {
        Assert.True(File.Exists(Path.Combine(TinyModel, "unet", "model.onnx")), $"the bundled model is missing at {TinyModel}");
        return TinyModel;
    }
}
