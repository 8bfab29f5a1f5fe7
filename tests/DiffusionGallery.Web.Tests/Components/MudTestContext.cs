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
        Render<MudBlazor.MudPopoverProvider>();
    }
}
