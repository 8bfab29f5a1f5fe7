using Bunit;
using Bunit.TestDoubles;
using DiffusionGallery.Inference.Abstractions;
using DiffusionGallery.Web.Data.Entities;
using DiffusionGallery.Web.Generation;
using DiffusionGallery.Web.Tests.Support;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using ImageDetailsPage = DiffusionGallery.Web.Components.Pages.Gallery.ImageDetails;

namespace DiffusionGallery.Web.Tests.Components;

/// <summary>The image detail page over a real (temporary) database.</summary>
public sealed class ImageDetailsTests : MudTestContext, IDisposable
{
    private readonly QueueHarness _h = new();
    private BunitAuthorizationContext? _auth;

    protected override void ConfigureServices(IServiceCollection services)
    {
        services.AddSingleton(_h.Gallery);
        services.AddSingleton(new UserPreferencesService(_h.Database, TimeProvider.System));
        AddCurrentUser(services);
        services.AddScoped(sp => _h.CreateSession(sp.GetRequiredService<DiffusionGallery.Web.Accounts.ICurrentUser>()));
        _auth = AddAuthorization();
    }

    private async Task<(string UserId, GeneratedImage Image)> SeedAsync(SamplerKind sampler, bool karras)
    {
        var me = await _h.Database.AddUserAsync("me@x.test");
        var image = new GeneratedImage
        {
            Id = Guid.NewGuid(), OwnerId = me, ModelName = "tiny-shapes", FileHash = "0123456789abcdef", Seed = 41, CreatedAt = DateTimeOffset.UtcNow,
            Settings = new GenerationSettings { Prompt = "a red circle", Sampler = sampler, KarrasSigmas = karras, Steps = 14, Seed = 40 },
        };
        await using (var db = _h.Database.CreateDbContext())
        {
            db.GeneratedImages.Add(image);
            await db.SaveChangesAsync(Xunit.TestContext.Current.CancellationToken);
        }
        _auth!.SetAuthorized("me@x.test");
        _auth.SetClaims(new System.Security.Claims.Claim(System.Security.Claims.ClaimTypes.NameIdentifier, me));
        return (me, image);
    }

    [Fact]
    public async Task KarrasImage_ShowsTheSchedule_AndUseTheseSettingsCarriesItOver()
    {
        var (me, image) = await SeedAsync(SamplerKind.DpmPlusPlus2M, karras: true);
        var page = Render<ImageDetailsPage>(p => p.Add(x => x.Id, image.Id));

        page.WaitForAssertion(() => Assert.Equal("DPM++ 2M Karras", page.Find("[data-testid=detail-sampler]").TextContent));
        page.FindAll("button").Single(b => b.TextContent.Contains("Use these settings")).Click();
        var navigation = Services.GetRequiredService<Microsoft.AspNetCore.Components.NavigationManager>();
        page.WaitForAssertion(() => Assert.EndsWith("/generate", navigation.Uri));

        var remembered = await new UserPreferencesService(_h.Database, TimeProvider.System).LoadAsync(me, Xunit.TestContext.Current.CancellationToken);
        Assert.NotNull(remembered);
        Assert.Equal((SamplerKind.DpmPlusPlus2M, true, 41L, 14), (remembered.Sampler, remembered.KarrasSigmas, remembered.Seed, remembered.Steps));
    }

    [Fact]
    public async Task ImageWithoutKarras_ShowsTheSamplerAlone()
    {
        var (_, image) = await SeedAsync(SamplerKind.EulerAncestral, karras: false);
        var page = Render<ImageDetailsPage>(p => p.Add(x => x.Id, image.Id));

        page.WaitForAssertion(() => Assert.Equal("Euler a", page.Find("[data-testid=detail-sampler]").TextContent));
    }

    public new void Dispose()
    {
        base.Dispose();
        _h.Dispose();
    }
}
