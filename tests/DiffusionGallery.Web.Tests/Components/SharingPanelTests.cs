using Bunit;
using DiffusionGallery.Web.Components.Pages.Sharing;
using DiffusionGallery.Web.Sharing;
using DiffusionGallery.Web.Tests.Sharing;
using DiffusionGallery.Web.Tests.Support;
using Microsoft.Extensions.DependencyInjection;
using MudBlazor;

namespace DiffusionGallery.Web.Tests.Components;

/// <summary>The owner's sharing panel on the image page: which visibility is chosen, and the collection toggles.</summary>
public sealed class SharingPanelTests : MudTestContext, IDisposable
{
    private readonly TestDatabase _db = new();

    protected override void ConfigureServices(IServiceCollection services)
    {
        services.AddSingleton<Microsoft.EntityFrameworkCore.IDbContextFactory<DiffusionGallery.Web.Data.ApplicationDbContext>>(_db);
        services.AddSingleton(TimeProvider.System);
        services.AddLogging();
        Microsoft.Extensions.Hosting.SharingExtensions.AddSharingServices(services);
    }

    private CollectionService Collections => Services.GetRequiredService<CollectionService>();

    private async Task<(string Me, Guid ImageId)> SeedAsync()
    {
        var me = await _db.AddUserAsync("me@x.test");
        var image = await SharingSeed.AddImageAsync(_db, null, me, "a red circle");
        return (me, image.Id);
    }

    private IRenderedComponent<SharingPanel> RenderPanel(string me, Guid imageId) =>
        Render<SharingPanel>(p => p.Add(x => x.ImageId, imageId).Add(x => x.OwnerId, me));

    private static void AssertChosen(IRenderedComponent<SharingPanel> panel, string chosen)
    {
        foreach (var value in new[] { "Private", "Unlisted", "Public" })
        {
            var button = panel.Find($"[data-testid=visibility-{value}]");
            var selected = value == chosen;
            Assert.Equal(selected ? "true" : "false", button.GetAttribute("aria-pressed"));
            Assert.Equal(selected, button.ClassList.Contains("mud-button-filled"));
            Assert.Equal(!selected, button.ClassList.Contains("mud-button-outlined"));
        }
    }

    [Fact]
    public async Task Visibility_OnlyTheChosenButtonIsFilled_AndItFollowsTheClick()
    {
        var (me, imageId) = await SeedAsync();
        var panel = RenderPanel(me, imageId);

        panel.WaitForAssertion(() => AssertChosen(panel, "Private"));
        panel.Find("[data-testid=visibility-Public]").Click();
        panel.WaitForAssertion(() => AssertChosen(panel, "Public"));
        panel.Find("[data-testid=visibility-Unlisted]").Click();
        panel.WaitForAssertion(() => AssertChosen(panel, "Unlisted"));
    }

    [Fact]
    public async Task CollectionToggle_AddsThenRemoves_WithFeedbackEachTime()
    {
        var ct = Xunit.TestContext.Current.CancellationToken;
        var (me, imageId) = await SeedAsync();
        var shapes = await Collections.CreateAsync(me, new CollectionCreate("Shapes", null), ct);
        var panel = RenderPanel(me, imageId);
        var snackbar = Services.GetRequiredService<ISnackbar>();

        panel.WaitForAssertion(() => Assert.Equal("false", panel.Find("[data-testid=collection-toggle]").GetAttribute("aria-pressed")));
        panel.Find("[data-testid=collection-toggle]").Click();
        panel.WaitForAssertion(() => Assert.Equal("true", panel.Find("[data-testid=collection-toggle]").GetAttribute("aria-pressed")));
        Assert.Equal([imageId], (await Collections.GetAsync(me, shapes.Id, ct))!.ImageIds);
        Assert.Contains(snackbar.ShownSnackbars, s => s.Message == "Added to \"Shapes\".");

        panel.Find("[data-testid=collection-toggle]").Click();
        panel.WaitForAssertion(() => Assert.Equal("false", panel.Find("[data-testid=collection-toggle]").GetAttribute("aria-pressed")));
        Assert.Empty((await Collections.GetAsync(me, shapes.Id, ct))!.ImageIds);
        Assert.Contains(snackbar.ShownSnackbars, s => s.Message == "Removed from \"Shapes\".");
    }

    [Fact]
    public async Task NoCollections_SaysSoAndLinksToMakeOne()
    {
        var (me, imageId) = await SeedAsync();
        var panel = RenderPanel(me, imageId);

        panel.WaitForAssertion(() => Assert.Contains("No collections yet. Make one", panel.Find("[data-testid=sharing-panel]").TextContent));
        Assert.Contains(panel.FindAll("a"), a => a.GetAttribute("href") == "collections");
    }

    public new void Dispose()
    {
        base.Dispose();
        _db.Dispose();
    }
}
