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

    /// <summary>The app's own <see cref="DiffusionGallery.Web.Accounts.CurrentUser"/>, reading bUnit's authentication state as in a circuit.</summary>
    protected static void AddCurrentUser(IServiceCollection services)
    {
        services.AddHttpContextAccessor();
        services.AddScoped<DiffusionGallery.Web.Accounts.CurrentUser>();
        services.AddScoped<DiffusionGallery.Web.Accounts.ICurrentUser>(sp => sp.GetRequiredService<DiffusionGallery.Web.Accounts.CurrentUser>());
    }

    /// <summary>Add test services here: the provider is locked once the first component renders.</summary>
    protected virtual void ConfigureServices(IServiceCollection services) { }
}
