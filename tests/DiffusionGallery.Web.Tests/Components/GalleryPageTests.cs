using Bunit;
using Bunit.TestDoubles;
using DiffusionGallery.Inference.Abstractions;
using DiffusionGallery.Web.Data.Entities;
using DiffusionGallery.Web.Generation;
using DiffusionGallery.Web.Tests.Support;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using GalleryPage = DiffusionGallery.Web.Components.Pages.Gallery.Gallery;

namespace DiffusionGallery.Web.Tests.Components;

/// <summary>The gallery page over a real (temporary) database: only the signed-in user's images, newest first, searchable.</summary>
public sealed class GalleryPageTests : MudTestContext, IDisposable
{
    private readonly QueueHarness _h = new();
    private BunitAuthorizationContext? _auth;

    protected override void ConfigureServices(IServiceCollection services)
    {
        services.AddSingleton(_h.Gallery);
        AddCurrentUser(services);
        services.AddScoped(sp => _h.CreateSession(sp.GetRequiredService<DiffusionGallery.Web.Accounts.ICurrentUser>()));
        _auth = AddAuthorization();
    }

    private async Task<string> SeedAsync()
    {
        var me = await _h.Database.AddUserAsync("me@x.test");
        var other = await _h.Database.AddUserAsync("other@x.test");
        await using var db = _h.Database.CreateDbContext();
        var start = DateTimeOffset.UtcNow.AddHours(-1);
        GeneratedImage Image(string owner, string prompt, int minutes, SamplerKind sampler) => new()
        {
            Id = Guid.NewGuid(), OwnerId = owner, ModelName = "tiny-shapes", FileHash = "00", CreatedAt = start.AddMinutes(minutes),
            Settings = new GenerationSettings { Prompt = prompt, Sampler = sampler },
        };
        db.GeneratedImages.AddRange(
            Image(me, "a red circle", 1, SamplerKind.Euler),
            Image(me, "a blue square", 2, SamplerKind.Ddim),
            Image(me, "a red triangle", 3, SamplerKind.Euler),
            Image(other, "a red star of someone else", 4, SamplerKind.Euler));
        await db.SaveChangesAsync(Xunit.TestContext.Current.CancellationToken);

        _auth!.SetAuthorized("me@x.test");
        _auth.SetClaims(new System.Security.Claims.Claim(System.Security.Claims.ClaimTypes.NameIdentifier, me));
        return me;
    }

    private static string[] Prompts(IRenderedComponent<GalleryPage> page) =>
        page.FindAll("[data-testid=image-card] .dg-clamp").Select(e => e.TextContent).ToArray();

    [Fact]
    public async Task ShowsOnlyOwnImagesNewestFirst()
    {
        await SeedAsync();
        var page = Render<GalleryPage>();
        page.WaitForAssertion(() => Assert.Equal(["a red triangle", "a blue square", "a red circle"], Prompts(page)));
        Assert.Contains("3 images", page.Find("[data-testid=gallery-total]").TextContent);
    }

    [Fact]
    public async Task Search_FiltersByPromptText()
    {
        await SeedAsync();
        var page = Render<GalleryPage>();
        page.WaitForAssertion(() => Assert.Equal(3, Prompts(page).Length));

        await page.InvokeAsync(() => page.FindComponent<MudBlazor.MudTextField<string>>().Instance.ValueChanged.InvokeAsync("red"));

        page.WaitForAssertion(() => Assert.Equal(["a red triangle", "a red circle"], Prompts(page)));
    }

    public new void Dispose()
    {
        base.Dispose();
        _h.Dispose();
    }
}
