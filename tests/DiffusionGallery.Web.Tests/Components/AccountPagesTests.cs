using Bunit;
using DiffusionGallery.Web.Components.Account.Pages;
using DiffusionGallery.Web.Components.Pages.Gallery;
using DiffusionGallery.Web.Options;
using Microsoft.Extensions.DependencyInjection;

namespace DiffusionGallery.Web.Tests.Components;

public sealed class AccountPagesTests : MudTestContext
{
    protected override void ConfigureServices(IServiceCollection services) =>
        services.AddSingleton(Microsoft.Extensions.Options.Options.Create(new AuthOptions { MaxFailedAccessAttempts = 5, LockoutMinutes = 15 }));

    [Fact]
    public void Lockout_SaysForHowLong_AndLinksBack()
    {
        var page = Render<Lockout>();

        Assert.Contains("15 minutes", page.Find("[data-testid=lockout-message]").TextContent);
        Assert.Equal("Account/Login", page.Find("[data-testid=lockout-back]").GetAttribute("href"));
    }

    [Fact]
    public void EmptyGallery_GenerateOneIsALink()
    {
        var grid = Render<GalleryGrid>(p => p.Add(g => g.Images, []));

        Assert.Equal("generate", grid.Find("[data-testid=gallery-empty] a[data-testid=generate-link]").GetAttribute("href"));
        Assert.Equal("No images yet. Generate one!", grid.Find("[data-testid=gallery-empty]").TextContent.Trim());
    }

    [Fact]
    public void EmptyFilteredGallery_NoGenerateLink()
    {
        var grid = Render<GalleryGrid>(p => p.Add(g => g.Images, []).Add(g => g.EmptyText, "No images match.").Add(g => g.OfferGenerate, false));

        Assert.Empty(grid.FindAll("[data-testid=generate-link]"));
    }
}
