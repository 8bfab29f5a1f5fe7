using DiffusionGallery.Inference.Pipeline;

namespace DiffusionGallery.Inference.Tests.Support;

/// <summary>One CPU generator for the bundled model, shared by the tests that run it (created on first use).</summary>
public sealed class TinyModelFixture : IDisposable
{
    private readonly Lazy<DiffusionImageGenerator> _generator = new(() => NewGenerator());

    /// <summary>A CPU generator of its own for the bundled model (the caller disposes it), with settings changed by <paramref name="configure"/>.</summary>
    public static DiffusionImageGenerator NewGenerator(Action<InferenceOptions>? configure = null)
    {
        var folder = Path.GetFullPath(TestPaths.TinyModel);
        var options = new InferenceOptions
        {
            ModelsRoot = Path.GetDirectoryName(folder)!,
            DefaultModel = Path.GetFileName(folder),
            Provider = ExecutionProviderPreference.Cpu,
            PreviewUpscale = 4,
        };
        configure?.Invoke(options);
        return new DiffusionImageGenerator(options);
    }

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
