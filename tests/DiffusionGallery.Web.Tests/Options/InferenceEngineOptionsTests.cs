using System.Text.Json;
using DiffusionGallery.Web.Options;
using Microsoft.Extensions.Hosting;
using EngineOptions = DiffusionGallery.Inference.InferenceOptions;

namespace DiffusionGallery.Web.Tests.Options;

/// <summary>
/// The Inference section reaches the engine: every web setting that names an engine setting is passed on. (Until
/// 2026-12-07 <c>DecodeImagesPerCall</c> and <c>BatchMemoryBudgetMB</c> were documented but never passed, so GPU runs
/// "with" them measured the engine's defaults.)
/// </summary>
public sealed class InferenceEngineOptionsTests
{
    [Fact]
    public void EverySettingWithAnEngineCounterpart_IsPassedOn_WithItsValue()
    {
        var web = new InferenceOptions
        {
            DefaultModel = "other", Provider = "Cpu", Threads = 3, AllowSpinning = true, UseIoBinding = false, StaticUnetShapes = 5,
            MaxLoadedModels = 2, DecodeImagesPerCall = 0, DecodeOffLoop = true, DecodeThread = true, AdmitOffLoop = true, StaticVaeDecoder = true, BatchMemoryBudgetMB = 777, EnginesPerDevice = 2, SamplerParallelFrom = 9,
            Cuda = new() { CudnnConvAlgoSearch = "EXHAUSTIVE", CudaGraphs = false },
        };

        var engine = InferenceExtensions.EngineOptionsFor(web, new GenerationOptions { MaxBatch = 6 }, "/models", deviceId: 4);

        Assert.Equal(("/models", 4, 3, 6, 2), (engine.ModelsRoot, engine.DeviceId, engine.IntraOpThreads, engine.MaxBatchSize, engine.EnginesSharingDevice));
        Assert.Equal(DiffusionGallery.Inference.ExecutionProviderPreference.Cpu, engine.Provider);
        var shared = typeof(InferenceOptions).GetProperties()
            .Where(p => p.Name is not (nameof(InferenceOptions.ModelsRoot) or nameof(InferenceOptions.DeviceId))) // (resolved, per device: above)
            .Where(p => p.CanWrite && typeof(EngineOptions).GetProperty(p.Name) is { CanWrite: true } e && e.PropertyType == p.PropertyType)
            .ToList();
        Assert.Contains(shared, p => p.Name == nameof(InferenceOptions.DecodeImagesPerCall));
        Assert.Contains(shared, p => p.Name == nameof(InferenceOptions.BatchMemoryBudgetMB));
        foreach (var property in shared)
        {
            var expected = JsonSerializer.Serialize(property.GetValue(web));
            var actual = JsonSerializer.Serialize(typeof(EngineOptions).GetProperty(property.Name)!.GetValue(engine));
            Assert.True(expected == actual, $"Inference:{property.Name} is {expected} but the engine got {actual}");
        }
    }

    [Fact]
    public void TheDefaults_GiveTheEnginesDefaults()
    {
        var engine = InferenceExtensions.EngineOptionsFor(new InferenceOptions(), new GenerationOptions(), "/models", deviceId: 0);
        var defaults = new EngineOptions();

        Assert.Equal(defaults.DecodeImagesPerCall, engine.DecodeImagesPerCall);
        Assert.Equal(defaults.BatchMemoryBudgetMB, engine.BatchMemoryBudgetMB);
        Assert.Equal(defaults.StaticUnetShapes, engine.StaticUnetShapes);
        Assert.Equal(1, engine.EnginesSharingDevice);
    }
}
