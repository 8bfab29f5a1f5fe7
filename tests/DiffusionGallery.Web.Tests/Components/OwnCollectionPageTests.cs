using System.Security.Claims;
using Bunit;
using Bunit.TestDoubles;
using DiffusionGallery.Web.Components.Pages.Sharing;
using DiffusionGallery.Web.Sharing;
using DiffusionGallery.Web.Tests.Sharing;
using DiffusionGallery.Web.Tests.Support;
using Microsoft.Extensions.DependencyInjection;
using MudBlazor;

namespace DiffusionGallery.Web.Tests.Components;

/// <summary>/collections/{id}: the owner sees a collection's images whatever its visibility, and can take images out.</summary>
public sealed class OwnCollectionPageTests : MudTestContext, IDisposable
{
    private readonly TestDatabase _db = new();
    private BunitAuthorizationContext? _auth;

    protected override void ConfigureServices(IServiceCollection services)
    {
        services.AddSingleton<Microsoft.EntityFrameworkCore.IDbContextFactory<DiffusionGallery.Web.Data.ApplicationDbContext>>(_db);
        services.AddSingleton(TimeProvider.System);
        services.AddLogging();
        Microsoft.Extensions.Hosting.SharingExtensions.AddSharingServices(services);
        _auth = AddAuthorization();
    }

    private CollectionService Collections => Services.GetRequiredService<CollectionService>();
    private static CancellationToken Ct => Xunit.TestContext.Current.CancellationToken;

    private async Task<string> SignInAsync(string email)
    {
        var id = await _db.AddUserAsync(email);
        _auth!.SetAuthorized(email);
        _auth.SetClaims(new Claim(ClaimTypes.NameIdentifier, id));
        return id;
    }

    [Fact]
    public async Task Owner_SeesAPrivateCollectionsImagesInOrder_AndRemovesOne()
    {
        var me = await SignInAsync("me@x.test");
        var first = await SharingSeed.AddImageAsync(_db, null, me, "first");
        var second = await SharingSeed.AddImageAsync(_db, null, me, "second");
        var collection = await Collections.CreateAsync(me, new CollectionCreate("Shapes", "Round things"), Ct);
        await Collections.AddImagesAsync(me, collection.Id, [second.Id, first.Id], Ct);

        var page = Render<OwnCollection>(p => p.Add(x => x.Id, collection.Id));

        page.WaitForAssertion(() => Assert.Equal("Shapes", page.Find("[data-testid=collection-name]").TextContent));
        Assert.Equal([second.Id.ToString(), first.Id.ToString()], page.FindAll("[data-testid=image-card]").Select(c => c.GetAttribute("data-image-id")));
        Assert.Contains("Private · 2 images", page.Find("[data-testid=collection-summary]").TextContent);

        page.FindAll("[data-testid=remove-from-collection]")[0].Click();

        page.WaitForAssertion(() => Assert.Equal([first.Id.ToString()], page.FindAll("[data-testid=image-card]").Select(c => c.GetAttribute("data-image-id"))));
        Assert.Equal([first.Id], (await Collections.GetAsync(me, collection.Id, Ct))!.ImageIds);
        Assert.Contains(Services.GetRequiredService<ISnackbar>().ShownSnackbars, s => s.Message?.StartsWith("Removed from \"Shapes\"", StringComparison.Ordinal) == true);
    }

    [Fact]
    public async Task EmptyCollection_SaysHowToAddImages()
    {
        var me = await SignInAsync("me@x.test");
        var collection = await Collections.CreateAsync(me, new CollectionCreate("Empty", null), Ct);

        var page = Render<OwnCollection>(p => p.Add(x => x.Id, collection.Id));

        page.WaitForAssertion(() => Assert.Contains("No images in this collection yet.", page.Find("[data-testid=collection-empty]").TextContent));
    }

    [Fact]
    public async Task SomeoneElsesCollection_ShowsNothingOfIt()
    {
        var owner = await _db.AddUserAsync("owner@x.test");
        var image = await SharingSeed.AddImageAsync(_db, null, owner, "secret");
        var collection = await Collections.CreateAsync(owner, new CollectionCreate("Secret", null), Ct);
        await Collections.AddImagesAsync(owner, collection.Id, [image.Id], Ct);
        await SignInAsync("intruder@x.test");

        var page = Render<OwnCollection>(p => p.Add(x => x.Id, collection.Id));

        Assert.DoesNotContain("Secret", page.Markup);
        Assert.Empty(page.FindAll("[data-testid=image-card]"));
    }

    public new void Dispose()
    {
        base.Dispose();
        _db.Dispose();
    }
}
