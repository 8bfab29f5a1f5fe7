using DiffusionGallery.Inference.Abstractions;
using DiffusionGallery.Inference.Imaging;
using DiffusionGallery.Inference.Models;
using DiffusionGallery.Inference.Onnx;

namespace DiffusionGallery.Inference.Pipeline;

/// <summary>
/// The inference engine behind <see cref="IImageGenerator"/>: finds the model folders under
/// <see cref="InferenceOptions.ModelsRoot"/>, creates each model's ONNX sessions once (on first use or via
/// <see cref="LoadModelAsync"/>) and shares them by all jobs. Jobs run one at a time (calls are serialized
/// internally), so a single worker thread, or several, may call <see cref="GenerateAsync"/>.
/// </summary>
/// <remarks>
/// A host constructs it directly, without a DI container, and disposes it at shutdown:
/// <code>
/// var generator = new DiffusionImageGenerator(new InferenceOptions
/// {
///     ModelsRoot = "models", DefaultModel = "tiny-shapes", Provider = ExecutionProviderPreference.Auto,
///     Log = message => logger.LogInformation("{Message}", message),
/// });
/// await generator.LoadModelAsync(null, stoppingToken);   // optional warm-up of the default model
/// var result = await generator.GenerateAsync(new GenerationRequest { Prompt = "a red circle" }, progress, ct);
/// </code>
/// In ASP.NET Core register that instance as a singleton for <see cref="IImageGenerator"/>.
/// </remarks>
public sealed class DiffusionImageGenerator : IImageGenerator, IDisposable
{
    private readonly InferenceOptions _options;
    private readonly SessionFactory _sessions;
    private readonly SafeImageDecoder _imageDecoder = new();
    private readonly SemaphoreSlim _gate = new(1, 1);
    private readonly LinkedList<LoadedModel> _loaded = new(); // most recently used first
    private IReadOnlyList<ModelInfo> _catalog = [];
    private bool _disposed;

    /// <exception cref="ArgumentException">The options are invalid.</exception>
    /// <exception cref="ExecutionProviderUnavailableException">Provider is Cuda and CUDA cannot be loaded.</exception>
    public DiffusionImageGenerator(InferenceOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.ThrowIfInvalid();
        _options = options;
        _sessions = new SessionFactory(options);
        RefreshModels();
    }

    public IReadOnlyList<ModelDescriptor> Models => _catalog.Select(m => m.Descriptor).ToList();

    /// <summary>The models found on disk with their settings.</summary>
    public IReadOnlyList<ModelInfo> ModelInfos => _catalog;

    public string ExecutionProvider => _sessions.Provider;

    /// <summary>Why Auto fell back from CUDA to CPU; null when it did not.</summary>
    public string? ExecutionProviderNote => _sessions.FallbackReason;

    public static string RuntimeVersion => SessionFactory.RuntimeVersion;

    /// <summary>Names of the models whose sessions are currently loaded.</summary>
    public IReadOnlyList<string> LoadedModels
    {
        get
        {
            lock (_loaded)
                return _loaded.Select(m => m.Name).ToList();
        }
    }

    /// <summary>Re-scans the models folder (new folders appear, removed ones disappear from <see cref="Models"/>).</summary>
    public void RefreshModels()
    {
        var found = new List<ModelInfo>();
        foreach (var folder in Directory.EnumerateDirectories(_options.ModelsRoot).Order(StringComparer.Ordinal))
        {
            if (!ModelInfo.LooksLikeModel(folder))
                continue;
            try
            {
                found.Add(ModelInfo.Read(folder));
            }
            catch (ModelLoadException ex)
            {
                _options.Log?.Invoke($"Skipping model folder {folder}: {ex.Message}");
            }
        }

        _catalog = found;
    }

    /// <summary>The catalog entry for a model name (null = default). Throws <see cref="UnknownModelException"/>.</summary>
    public ModelInfo ResolveModel(string? name)
    {
        name ??= _options.DefaultModel;
        if (name is null)
            return _catalog.FirstOrDefault() ?? throw new UnknownModelException("(default)", []);
        return _catalog.FirstOrDefault(m => string.Equals(m.Name, name, StringComparison.Ordinal))
            ?? throw new UnknownModelException(name, _catalog.Select(m => m.Name));
    }

    /// <summary>
    /// Loads (or returns the already loaded) sessions of a model; switching to a model beyond
    /// <see cref="InferenceOptions.MaxLoadedModels"/> unloads the least recently used one. Cancellable.
    /// </summary>
    public async Task<LoadedModel> LoadModelAsync(string? name, CancellationToken cancellationToken)
    {
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            return await LoadModelCoreAsync(ResolveModel(name), cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            _gate.Release();
        }
    }

    public void Validate(GenerationRequest request)
    {
        var info = ResolveModel(request.Model);
        RequestValidator.Validate(request, info, IsLcm(info), _options.MaxBatchSize, _imageDecoder);
    }

    public async Task<GenerationResult> GenerateAsync(GenerationRequest request, IProgress<GenerationProgress>? progress, CancellationToken cancellationToken)
    {
        using var run = await RunAsync(request, progress, cancellationToken).ConfigureAwait(false);
        return run.Result;
    }

    /// <summary>Like <see cref="GenerateAsync"/> but also returns the ImageSharp images and final latents (dispose the run).</summary>
    public async Task<GenerationRun> RunAsync(GenerationRequest request, IProgress<GenerationProgress>? progress, CancellationToken cancellationToken)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        Validate(request);
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var model = await LoadModelCoreAsync(ResolveModel(request.Model), cancellationToken).ConfigureAwait(false);
            Validate(request); // again, now that the model's graphs (e.g. an LCM timestep_cond input) are known
            var pipeline = new DiffusionPipeline(model, _options, _imageDecoder, _sessions.FallbackReason);
            return await Task.Run(() => pipeline.Run(request, progress, cancellationToken), cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>
    /// Forward diffusion of an image: encodes it, noises the latent to a training timestep with the
    /// request's seed (Philox offset 0) and decodes the result. Used by the Diffusion Lab.
    /// </summary>
    public async Task<ForwardNoiseResult> NoiseImageAsync(ForwardNoiseRequest request, CancellationToken cancellationToken)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        var info = ResolveModel(request.Model);
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var model = await LoadModelCoreAsync(info, cancellationToken).ConfigureAwait(false);
            return await Task.Run(() => new ForwardNoiser(model, _imageDecoder).Run(request, cancellationToken), cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            _gate.Release();
        }
    }

    private bool IsLcm(ModelInfo info)
    {
        lock (_loaded)
        {
            var loaded = _loaded.FirstOrDefault(m => m.Name == info.Name);
            return loaded?.IsLcm ?? info.Scheduler.IsLcm;
        }
    }

    private async Task<LoadedModel> LoadModelCoreAsync(ModelInfo info, CancellationToken cancellationToken)
    {
        lock (_loaded)
        {
            var existing = _loaded.FirstOrDefault(m => m.Name == info.Name);
            if (existing is not null)
            {
                _loaded.Remove(existing);
                _loaded.AddFirst(existing);
                return existing;
            }
        }

        _options.Log?.Invoke($"Loading model '{info.Name}' from {info.Folder} on {_sessions.Provider}.");
        var started = System.Diagnostics.Stopwatch.GetTimestamp();
        var model = await LoadedModel.LoadAsync(info, _sessions, cancellationToken).ConfigureAwait(false);
        _options.Log?.Invoke($"Model '{info.Name}' loaded in {System.Diagnostics.Stopwatch.GetElapsedTime(started).TotalMilliseconds:F0} ms (hash {model.ShortHash}).");
        lock (_loaded)
        {
            _loaded.AddFirst(model);
            while (_loaded.Count > _options.MaxLoadedModels)
            {
                var evicted = _loaded.Last!.Value;
                _loaded.RemoveLast();
                _options.Log?.Invoke($"Unloading model '{evicted.Name}'.");
                evicted.Dispose();
            }
        }

        return model;
    }

    public void Dispose()
    {
        if (_disposed)
            return;
        _disposed = true;
        _gate.Wait();
        lock (_loaded)
        {
            foreach (var model in _loaded)
                model.Dispose();
            _loaded.Clear();
        }

        _gate.Dispose();
    }
}
