using System.Runtime.ExceptionServices;
using DiffusionGallery.Inference.Abstractions;
using DiffusionGallery.Inference.Imaging;
using DiffusionGallery.Inference.Models;
using DiffusionGallery.Inference.Onnx;
using DiffusionGallery.Inference.Scheduling;

namespace DiffusionGallery.Inference.Pipeline;

/// <summary>
/// The inference engine behind <see cref="IImageGenerator"/>: finds the model folders under
/// <see cref="InferenceOptions.ModelsRoot"/>, creates each model's ONNX sessions once (on first use or via
/// <see cref="LoadModelAsync"/>) and shares them by all jobs. Runs hold one gate, one at a time, while they use
/// ONNX Runtime (model load, text encoder, UNet loop, VAE); PNG encoding and metadata run after the gate is released,
/// so a worker may start the next run while the previous one encodes. <see cref="GenerateBatchAsync"/> runs
/// requests of one <see cref="BatchKey"/> in shared UNet calls; <see cref="GenerateAsync"/> is its one-request case.
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
public sealed class DiffusionImageGenerator : IImageGenerator, IBatchImageGenerator, IDisposable
{
    private readonly InferenceOptions _options;
    private readonly SessionFactory _sessions;
    private readonly SafeImageDecoder _imageDecoder = new();
    private readonly SemaphoreSlim _gate = new(1, 1);
    private readonly DeviceThread _device;
    private readonly DeviceThread? _side;
    private readonly DeviceThread? _decoder; // (Inference:DecodeThread: decoding apart from admissions)
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
        _device = new DeviceThread($"Inference device {options.DeviceId}");
        _side = options.DecodeOffLoop || options.AdmitOffLoop ? new DeviceThread($"Inference device {options.DeviceId} side") : null;
        _decoder = options.DecodeOffLoop && options.DecodeThread ? new DeviceThread($"Inference device {options.DeviceId} decoder") : null;
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
        var members = await RunMembersAsync([new BatchItem(request, progress, cancellationToken)], keepImages: true, cancellationToken).ConfigureAwait(false);
        var member = members[0];
        if (member.Error is not null)
            ExceptionDispatchInfo.Throw(member.Error);
        var images = member.Images!;
        member.Images = null; // owned by the run now
        return new GenerationRun(member.Result!, images, member.Latents, member.LatentShape);
    }

    public BatchKey KeyOf(GenerationRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        var info = _catalog.FirstOrDefault(m => string.Equals(m.Name, request.Model ?? _options.DefaultModel ?? _catalog.FirstOrDefault()?.Name, StringComparison.Ordinal));
        var karras = request.KarrasSigmas && SamplerNames.SupportsKarras(request.Sampler);
        // Img2img members run from their start step: beside the others (per-row timesteps) or, for graphs with a scalar
        // timestep input, once the others have reached it; so the strength needs no place in the key (Extra stays empty).
        return new BatchKey(info?.Name ?? request.Model ?? "", request.Width, request.Height, request.Sampler, karras, request.Steps);
    }

    public int MaxBatchImages(GenerationRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        int? hiddenSize = null;
        lock (_loaded)
        {
            var name = request.Model ?? _options.DefaultModel ?? _catalog.FirstOrDefault()?.Name;
            var loaded = _loaded.FirstOrDefault(m => m.Name == name);
            if (loaded is not null && loaded.Unet.Inputs["encoder_hidden_states"].Dimensions[^1] is > 0 and var size)
                hiddenSize = size;
        }

        var perImage = BatchMemoryEstimate.BytesPerImage(request.Width, request.Height, hiddenSize ?? BatchMemoryEstimate.DefaultHiddenSize);
        var budget = _options.EffectiveBatchMemoryBudgetMB(_sessions.Provider) * 1024L * 1024L;
        return BatchMemoryEstimate.MaxImages(budget, perImage, Math.Max(1, request.BatchSize));
    }

    /// <summary>
    /// Runs compatible requests in shared UNet calls (see <see cref="IBatchImageGenerator"/>). The engine's gate is
    /// held only for ONNX work (model load, text encoder, UNet loop, VAE encode/decode); PNG encoding and metadata
    /// follow after it is released, so a host may start the next batch on the GPU while this one encodes.
    /// </summary>
    public async Task<IReadOnlyList<BatchItemOutcome>> GenerateBatchAsync(IReadOnlyList<BatchItem> items, CancellationToken cancellationToken)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        ArgumentNullException.ThrowIfNull(items);
        if (items.Count == 0)
            return [];
        SharedKeyOf(items);
        var members = await RunMembersAsync(items, keepImages: false, cancellationToken).ConfigureAwait(false);
        return members.Select(m => m.ToOutcome()).ToList();
    }

    /// <summary>
    /// A shared run open to joiners (see <see cref="IBatchImageGenerator.RunJoinableAsync"/>). Joiners are validated as
    /// they come (a bad one is finished with its error at once); each finished member is PNG-encoded off the engine's
    /// thread, beside the running loop, then handed to the feed. The engine's gate is held until the loop has drained.
    /// </summary>
    public async Task RunJoinableAsync(IReadOnlyList<BatchItem> items, IRunFeed feed, int maxImages, CancellationToken cancellationToken)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        ArgumentNullException.ThrowIfNull(items);
        ArgumentNullException.ThrowIfNull(feed);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxImages, 1);
        if (items.Count == 0)
            return;
        var key = SharedKeyOf(items);

        var encoding = new List<Task>();
        DiffusionPipeline? pipeline = null;
        var index = items.Count;
        void Finished(IReadOnlyList<BatchMember> ended)
        {
            var p = pipeline;
            var task = Task.Run(() =>
            {
                Parallel.ForEach(ended, m =>
                {
                    p?.Encode(m, keepImages: false);
                    m.DisposeImages();
                });
                feed.Finished(ended.Select(m => (m.Item, m.ToOutcome())).ToList());
            }, CancellationToken.None);
            lock (encoding)
            {
                encoding.RemoveAll(t => t.IsCompleted); // (a run under steady load may go on for hours)
                encoding.Add(task);
            }
        }

        IReadOnlyList<BatchMember> Take(int room)
        {
            var joiners = new List<BatchMember>();
            foreach (var item in feed.TakeJoiners(key, room))
            {
                var member = new BatchMember(index++, item);
                Check(member, key);
                joiners.Add(member);
            }

            return joiners;
        }

        var members = items.Select((item, i) => new BatchMember(i, item)).ToList();
        var capacity = Math.Max(maxImages, items.Sum(i => Math.Max(1, i.Request.BatchSize)));
        try
        {
            await RunMembersAsync(members, keepImages: false, cancellationToken,
                p => { pipeline = p; return new RunJoining(capacity, Take, Finished, feed.LoopReport); }).ConfigureAwait(false);
        }
        finally
        {
            // Members the loop never saw (failed validation, or the run was stopped before it began) end here.
            var unseen = members.Where(m => !m.Handed).ToList();
            foreach (var member in unseen)
            {
                if (member.Error is null)
                    member.Fail(new OperationCanceledException("The run was stopped before it began.", cancellationToken));
                member.Handed = true;
            }

            if (unseen.Count > 0)
                Finished(unseen);

            Task[] pending;
            lock (encoding)
                pending = [.. encoding];
            await Task.WhenAll(pending).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// A member that cannot run fails at once, alone: cancelled, invalid, or (a joiner) of another key than the run's.
    /// </summary>
    private void Check(BatchMember member, BatchKey? runKey = null)
    {
        try
        {
            if (runKey is { } key && KeyOf(member.Request) is var other && other != key)
                throw new ArgumentException($"The request's batch key {other} differs from the run's {key}.");
            member.Token.ThrowIfCancellationRequested();
            Validate(member.Request);
        }
        catch (Exception ex)
        {
            member.Fail(ex);
        }
    }

    /// <summary>The batch key every item shares; <see cref="ArgumentException"/> for a null item or one of another key.</summary>
    private BatchKey SharedKeyOf(IReadOnlyList<BatchItem> items)
    {
        for (var i = 0; i < items.Count; i++)
        {
            if (items[i]?.Request is null)
                throw new ArgumentNullException(nameof(items), $"Item {i} or its request is null.");
        }

        var key = KeyOf(items[0].Request);
        for (var i = 1; i < items.Count; i++)
        {
            var other = KeyOf(items[i].Request);
            if (other != key)
                throw new ArgumentException($"Item {i} cannot share a run with item 0: its batch key {other} differs from {key}.", nameof(items));
        }

        return key;
    }

    private Task<List<BatchMember>> RunMembersAsync(IReadOnlyList<BatchItem> items, bool keepImages, CancellationToken cancellationToken) =>
        RunMembersAsync(items.Select((item, i) => new BatchMember(i, item)).ToList(), keepImages, cancellationToken);

    private async Task<List<BatchMember>> RunMembersAsync(List<BatchMember> members, bool keepImages, CancellationToken cancellationToken,
        Func<DiffusionPipeline, RunJoining>? joinable = null)
    {
        foreach (var member in members)
            Check(member);

        if (members.All(m => m.Error is not null))
            return members;

        DiffusionPipeline pipeline;
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            try
            {
                var model = await LoadModelCoreAsync(ResolveModel(members.First(m => m.Error is null).Request.Model), cancellationToken).ConfigureAwait(false);
                foreach (var member in members.Where(m => m.Error is null))
                {
                    try
                    {
                        Validate(member.Request); // again, now that the model's graphs (e.g. an LCM timestep_cond input) are known
                    }
                    catch (InvalidGenerationRequestException ex)
                    {
                        member.Fail(ex);
                    }
                }

                pipeline = new DiffusionPipeline(model, _options, _imageDecoder, _sessions.FallbackReason, _side, _decoder);
            }
            catch (Exception ex) when (!cancellationToken.IsCancellationRequested)
            {
                foreach (var member in members.Where(m => m.Error is null))
                    member.Fail(ex);
                return members;
            }

            if (members.Any(m => m.Error is null))
            {
                var joining = joinable?.Invoke(pipeline);
                cancellationToken.ThrowIfCancellationRequested();
                await _device.RunAsync(() => pipeline.RunOnnx(members, cancellationToken, joining)).ConfigureAwait(false);
            }
        }
        catch
        {
            foreach (var member in members)
                member.DisposeImages();
            throw;
        }
        finally
        {
            _gate.Release();
        }

        if (joinable is not null)
            return members; // each was encoded and handed on as it finished

        // Outside the gate: PNG encoding and metadata (CPU only).
        await Task.Run(() => Parallel.ForEach(members, member => pipeline.Encode(member, keepImages)), CancellationToken.None).ConfigureAwait(false);
        var failed = members.FirstOrDefault(m => m.Error is not null && m.Error is not OperationCanceledException);
        if (members.Count > 1)
            _options.Log?.Invoke($"Shared run of {members.Count} requests ({members.Sum(m => m.Request.BatchSize)} images): "
                + $"{members.Count(m => m.Result is not null)} done, {members.Count(m => m.Error is OperationCanceledException)} cancelled, "
                + $"{members.Count(m => m.Error is not null and not OperationCanceledException)} failed{(failed is null ? "" : $" (first: {failed.Error!.Message})")}.");
        return members;
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
            cancellationToken.ThrowIfCancellationRequested();
            return await _device.RunAsync(() => new ForwardNoiser(model, _imageDecoder).Run(request, cancellationToken)).ConfigureAwait(false);
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
        var cudaGraphs = _options.Cuda.CudaGraphs && _sessions.Provider == SessionFactory.CudaName;
        var shapes = StaticUnetShapesFor(info);
        if (shapes > 0)
        {
            model.StaticUnets = new StaticUnetCache(model, _sessions, shapes, cudaGraphs, _options.DeviceId, _options.Log);
            _options.Log?.Invoke($"Fixed-shape UNet sessions for up to {shapes} shapes{(cudaGraphs ? ", replayed as CUDA graphs" : "")}.");
        }

        if (_options.LatentsOnDevice && model.StaticUnets is not null)
        {
            var unetType = model.Unet.Outputs[model.UnetOutput].ElementDataType;
            string? why = $"the UNet's sample is {model.SampleType} and its output {unetType}";
            model.LatentStep = unetType == model.SampleType ? LatentStepGraph.TryCreate(_sessions, unetType, out why) : null;
            _options.Log?.Invoke(model.LatentStep is not null ? "Latents stay on the device between steps (DPM++ 2M and Euler)."
                : $"Latents stay on the host: {why}.");
        }

        if (_options.StaticVaeDecoder)
            model.StaticVaeDecoders = new StaticVaeDecoderCache(model, _sessions, InferenceOptions.StaticVaeDecoderShapes, cudaGraphs, _options.DeviceId, _options.Log);
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

    /// <summary>
    /// <see cref="InferenceOptions.StaticUnetShapes"/> for this model: as configured, or when automatic, on CUDA a few
    /// shapes for a UNet small enough that a copy of its weights per shape costs little and one shape for a larger one
    /// (off on CPU, where they gain nothing).
    /// </summary>
    internal int StaticUnetShapesFor(ModelInfo info)
    {
        if (_options.StaticUnetShapes != InferenceOptions.AutomaticStaticUnetShapes)
            return _options.StaticUnetShapes;
        if (_sessions.Provider != SessionFactory.CudaName)
            return 0;
        var unet = new DirectoryInfo(Path.Combine(info.Folder, "unet"));
        var bytes = unet.Exists ? unet.EnumerateFiles("*", SearchOption.AllDirectories).Sum(f => f.Length) : long.MaxValue;
        return InferenceOptions.AutomaticStaticUnetShapesFor(cuda: true, bytes);
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

        _device.Dispose();
        _side?.Dispose();
        _decoder?.Dispose();
        _gate.Dispose();
    }
}
