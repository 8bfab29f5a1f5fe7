using DiffusionGallery.Inference.Pipeline;

namespace DiffusionGallery.Inference.Tests.Support;

/// <summary>One CPU generator for the bundled model, shared by the tests that run it (created on first use).</summary>
public sealed class TinyModelFixture : IDisposable
{
    private readonly Lazy<DiffusionImageGenerator> _generator = new(() =>
    {
        var folder = TestPaths.TinyModel;
        return new DiffusionImageGenerator(new InferenceOptions
        {
            ModelsRoot = Path.GetDirectoryName(Path.GetFullPath(folder))!,
            DefaultModel = Path.GetFileName(Path.GetFullPath(folder)),
            Provider = ExecutionProviderPreference.Cpu,
            PreviewUpscale = 4,
        });
    });

    /// <summary>The generator; skips the calling test while the model has not been committed.</summary>
    public DiffusionImageGenerator Generator
    {
        get
        {
            TestPaths.RequireTinyModel();
            return _generator.Value;
        }
    }

    public void Dispose()
    {
        if (_generator.IsValueCreated)
            _generator.Value.Dispose();
    }
}

[CollectionDefinition(Name)]
public sealed class TinyModelCollection : ICollectionFixture<TinyModelFixture>
{
    public const string Name = "tiny model";
}
