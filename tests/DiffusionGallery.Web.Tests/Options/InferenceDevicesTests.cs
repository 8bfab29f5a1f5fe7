using DiffusionGallery.Web.Options;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace DiffusionGallery.Web.Tests.Options;

/// <summary><c>Inference:Devices</c>: one worker and engine per listed GPU, checked at start-up.</summary>
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
}
