using DiffusionGallery.Inference;
using DiffusionGallery.Inference.Abstractions;
using DiffusionGallery.Inference.Pipeline;
using DiffusionGallery.Web.Generation;
using DiffusionGallery.Web.Options;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.Options;
using EngineOptions = DiffusionGallery.Inference.InferenceOptions;
using WebInferenceOptions = DiffusionGallery.Web.Options.InferenceOptions;

namespace Microsoft.Extensions.Hosting;

public static class InferenceExtensions
{
    /// <summary>The inference engine (one <see cref="DiffusionImageGenerator"/> for the process), configured from the Inference section.</summary>
    public static IHostApplicationBuilder AddInference(this IHostApplicationBuilder builder)
    {
        var services = builder.Services;
        services.AddSingleton(sp => CreateEngine(sp, sp.GetRequiredService<IOptions<WebInferenceOptions>>().Value.EffectiveDevices[0]));
        services.AddSingleton<IImageGenerator>(sp => sp.GetRequiredService<DiffusionImageGenerator>());
        // The generation worker's engines (own sessions each): Inference:EnginesPerDevice per device (one on the CPU),
        // the first of them the shared one above.
        services.AddSingleton(sp =>
        {
            var primary = sp.GetRequiredService<DiffusionImageGenerator>();
            var ids = sp.GetRequiredService<IOptions<WebInferenceOptions>>().Value.EngineDeviceIds(primary.ExecutionProvider);
            var extra = ids.Skip(1).Select(id => DeviceEngine.For(id, CreateEngine(sp, id))).ToList();
            return new EngineDevices([DeviceEngine.For(ids[0], primary), .. extra], extra.Select(e => (IDisposable)e.Generator).ToList());
        });
        services.AddHostedService<ModelWarmup>();
        return builder;
    }

    private static DiffusionImageGenerator CreateEngine(IServiceProvider sp, int deviceId)
    {
        var options = sp.GetRequiredService<IOptions<WebInferenceOptions>>().Value;
        var generation = sp.GetRequiredService<IOptions<GenerationOptions>>().Value;
        var logger = sp.GetRequiredService<ILoggerFactory>().CreateLogger("DiffusionGallery.Inference");
        var modelsRoot = AppPaths.Resolve(options.ModelsRoot);
        if (!Directory.Exists(modelsRoot))
            throw new OptionsValidationException(nameof(WebInferenceOptions.ModelsRoot), typeof(WebInferenceOptions),
                [$"Inference:ModelsRoot '{modelsRoot}' does not exist. Set Inference__ModelsRoot to the folder holding the model folders."]);
        var engineOptions = EngineOptionsFor(options, generation, modelsRoot, deviceId);
        engineOptions.Log = message => logger.LogInformation("{Message}", message);
        return new DiffusionImageGenerator(engineOptions);
    }

    /// <summary>The engine's settings from the Inference section (and the Generation section's batch limit), for one device.</summary>
    internal static EngineOptions EngineOptionsFor(WebInferenceOptions options, GenerationOptions generation, string modelsRoot, int deviceId) => new()
    {
        ModelsRoot = modelsRoot,
        DefaultModel = options.DefaultModel,
        Provider = Enum.Parse<ExecutionProviderPreference>(options.Provider),
        DeviceId = deviceId,
        IntraOpThreads = options.Threads,
        AllowSpinning = options.AllowSpinning,
        UseIoBinding = options.UseIoBinding,
        StaticUnetShapes = options.StaticUnetShapes,
        MaxLoadedModels = options.MaxLoadedModels,
        DecodeImagesPerCall = options.DecodeImagesPerCall,
        DecodeOffLoop = options.DecodeOffLoop,
        DecodeThread = options.DecodeThread,
        AdmitOffLoop = options.AdmitOffLoop,
        StaticVaeDecoder = options.StaticVaeDecoder,
        LatentsOnDevice = options.LatentsOnDevice,
        SamplerParallelFrom = options.SamplerParallelFrom,
        BatchMemoryBudgetMB = options.BatchMemoryBudgetMB,
        Cuda = options.Cuda,
        MaxBatchSize = generation.MaxBatch,
        // (the automatic GPU memory budget is split among the engines of one GPU)
        EnginesSharingDevice = options.EnginesPerDevice > 0 ? options.EnginesPerDevice : WebInferenceOptions.AutomaticEnginesPerGpu,
    };
}

/// <summary>Loads the default model before the server accepts requests, then says where to browse.</summary>
internal sealed class ModelWarmup(DiffusionImageGenerator generator, EngineDevices engines, IServer server,
    IHostApplicationLifetime lifetime, ILogger<ModelWarmup> logger) : IHostedService
{
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        if (generator.Models.Count == 0)
            throw new InvalidOperationException("No model found under Inference:ModelsRoot. The bundled model lives in models/tiny-shapes.");
        var model = await generator.LoadModelAsync(null, cancellationToken);
        // the worker's other engines (other devices, or more than one on a GPU) load theirs too, before the first job
        foreach (var other in engines.All.Select(e => e.Generator).OfType<DiffusionImageGenerator>().Where(g => !ReferenceEquals(g, generator)))
            await other.LoadModelAsync(null, cancellationToken);
        if (engines.All.Count > 1)
            logger.LogInformation("Generation engines: {Engines} on devices {Devices}", engines.All.Count, string.Join(", ", engines.All.Select(e => e.DeviceId)));
        logger.LogInformation("Model {Model} loaded; execution provider {Provider}{Note}", model.Name, generator.ExecutionProvider,
            generator.ExecutionProviderNote is null ? "" : " (CUDA could not be loaded, see above)");
        lifetime.ApplicationStarted.Register(() =>
        {
            var addresses = server.Features.Get<IServerAddressesFeature>()?.Addresses ?? [];
            foreach (var address in addresses) logger.LogInformation("DiffusionGallery is ready: open {Url}", address);
        });
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
