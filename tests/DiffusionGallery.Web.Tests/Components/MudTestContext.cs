using Bunit;
using MudBlazor.Services;

namespace DiffusionGallery.Web.Tests.Components;

/// <summary>bUnit base: MudBlazor services, loose JS interop, and the popover provider MudSelect needs.</summary>
public abstract class MudTestContext : BunitContext
{
    protected MudTestContext()
    {
        Services.AddMudServices();
        JSInterop.Mode = JSRuntimeMode.Loose;
        Render<MudBlazor.MudPopoverProvider>();
    }
}
