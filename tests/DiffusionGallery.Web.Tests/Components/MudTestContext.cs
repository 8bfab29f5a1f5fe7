using Bunit;
using DiffusionGallery.Web.Generation;
using DiffusionGallery.Web.Tests.Support;
using Microsoft.Extensions.DependencyInjection;
using MudBlazor.Services;

namespace DiffusionGallery.Web.Tests.Components;

/// <summary>bUnit base: MudBlazor services, the real prompt token counter, loose JS interop, and the popover provider MudSelect needs.</summary>
public abstract class MudTestContext : BunitContext
{
    protected MudTestContext()
    {
        Services.AddMudServices();
        Services.AddSingleton<IPromptTokenCounter>(new ClipPromptTokenCounter(BundledModel.Generator));
        JSInterop.Mode = JSRuntimeMode.Loose;
        ConfigureServices(Services);
        Render<MudBlazor.MudPopoverProvider>();
    }

    /// <summary>Add test services here: the provider is locked once the first component renders.</summary>
    protected virtual void ConfigureServices(IServiceCollection services) { }
}
