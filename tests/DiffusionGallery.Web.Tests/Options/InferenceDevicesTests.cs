using DiffusionGallery.Web.Generation;
using DiffusionGallery.Web.Options;
using DiffusionGallery.Web.Tests.Integration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace DiffusionGallery.Web.Tests.Options;

/// <summary>
/// <c>Inference:Devices</c>: one worker and engine per listed GPU, checked at start-up; <c>Inference:EnginesPerDevice</c>
/// engines on each GPU, one on the CPU.
/// </summary>
public sealed class InferenceDevicesTests
{
    private static InferenceOptions Validated(Action<InferenceOptions> change)
    {
        var services = new ServiceCollection();
        services.AddOptions<InferenceOptions>().Configure(change).ValidateDataAnnotations();
        return services.BuildServiceProvider().GetRequiredService<IOptions<InferenceOptions>>().Value;
    }

    [Fact]
    public void Default_IsOneDevice_TheDeviceId()
    {
        Assert.Equal([0], Validated(_ => { }).EffectiveDevices);
        Assert.Equal([3], Validated(o => o.DeviceId = 3).EffectiveDevices);
    }

    [Fact]
    public void Listed_GivesOneEnginePerDevice_ButCpuHasOne()
    {
        Assert.Equal([0, 1, 2, 3], Validated(o => { o.Provider = "Cuda"; o.Devices = [0, 1, 2, 3]; }).EffectiveDevices);
        Assert.Equal([0], Validated(o => { o.Provider = "Cpu"; o.Devices = [0, 1]; }).EffectiveDevices);
    }

    [Theory]
    [InlineData(new[] { 0, 0 }, "twice")]
    [InlineData(new[] { 0, 65 }, "0 to 64")]
    [InlineData(new[] { -1 }, "0 to 64")]
    public void BadList_FailsAtStartUpWithAClearMessage(int[] devices, string message)
    {
        var ex = Assert.Throws<OptionsValidationException>(() => Validated(o => o.Devices = [.. devices]));
        Assert.Contains("Inference:Devices", ex.Message);
        Assert.Contains(message, ex.Message);
    }

    [Fact]
    public void DecodeThread_WithoutDecodingOffTheLoop_FailsAtStartUpWithAClearMessage()
    {
        var ex = Assert.Throws<OptionsValidationException>(() => Validated(o => o.DecodeThread = true));
        Assert.Contains("Inference:DecodeThread needs Inference:DecodeOffLoop", ex.Message);
        Assert.True(Validated(o => (o.DecodeThread, o.DecodeOffLoop) = (true, true)).DecodeThread);
    }

    [Fact]
    public void EnginesPerDevice_IsOneOnTheCpu_TheConfiguredCountOnCuda_AndAutomaticWhenZero()
    {
        Assert.Equal(1, Validated(o => o.EnginesPerDevice = 3).EffectiveEnginesPerDevice("CPU")); // two would share the same cores
        Assert.Equal(1, Validated(o => o.EnginesPerDevice = 4).EffectiveEnginesPerDevice("CPU"));
        Assert.Equal(1, Validated(_ => { }).EffectiveEnginesPerDevice("CPU"));
        Assert.Equal(3, Validated(o => o.EnginesPerDevice = 3).EffectiveEnginesPerDevice("CUDA"));
        Assert.Equal(2, Validated(o => o.EnginesPerDevice = 2).EffectiveEnginesPerDevice("cuda"));
        Assert.Equal(0, Validated(_ => { }).EnginesPerDevice);
        Assert.Equal(InferenceOptions.AutomaticEnginesPerGpu, Validated(_ => { }).EffectiveEnginesPerDevice("CUDA"));
    }

    [Theory]
    [InlineData(5)]
    [InlineData(-1)]
    public void EnginesPerDevice_OutOfRange_FailsAtStartUp(int engines)
    {
        var ex = Assert.Throws<OptionsValidationException>(() => Validated(o => o.EnginesPerDevice = engines));
        Assert.Contains(nameof(InferenceOptions.EnginesPerDevice), ex.Message);
        Assert.Equal(4, Validated(o => o.EnginesPerDevice = 4).EnginesPerDevice);
    }

    [Fact]
    public void EngineDeviceIds_RepeatEachGpuPerEngine_ButTheCpuHasOneEngine()
    {
        var twoGpus = Validated(o => { o.Provider = "Auto"; o.Devices = [0, 1]; o.EnginesPerDevice = 2; });

        Assert.Equal([0, 0, 1, 1], twoGpus.EngineDeviceIds("CUDA"));
        Assert.Equal([0], twoGpus.EngineDeviceIds("CPU")); // Auto without CUDA: one engine, whatever is listed
        Assert.Equal([0, 1], Validated(o => { o.Provider = "Cuda"; o.Devices = [0, 1]; }).EngineDeviceIds("CUDA"));
        Assert.Equal([3], Validated(o => o.DeviceId = 3).EngineDeviceIds("CUDA"));
    }

    [Fact]
    public async Task TheAppOnTheCpu_WithTwoEnginesPerDevice_RunsOneEngine()
    {
        await using var app = new GalleryAppFactory();
        app.Settings["Inference:EnginesPerDevice"] = "2";

        var engines = app.Services.GetRequiredService<EngineDevices>();

        Assert.Equal(2, app.Services.GetRequiredService<IOptions<InferenceOptions>>().Value.EnginesPerDevice); // (the setting arrived)
        var engine = Assert.Single(engines.All);
        Assert.Equal("CPU", engine.Generator.ExecutionProvider);
        Assert.Same(app.Services.GetRequiredService<DiffusionGallery.Inference.Pipeline.DiffusionImageGenerator>(), engine.Generator);
        Assert.Null(app.Services.GetRequiredService<IOptions<GenerationOptions>>().Value.ReadyAhead); // the shipped null: automatic
    }
}
