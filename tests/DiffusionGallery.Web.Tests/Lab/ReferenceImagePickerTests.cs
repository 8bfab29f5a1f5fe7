using Bunit;
using DiffusionGallery.Web.Components.Pages.Lab;
using DiffusionGallery.Web.Tests.Components;
using DiffusionGallery.Web.Tests.Support;
using Microsoft.Extensions.DependencyInjection;

namespace DiffusionGallery.Web.Tests.Lab;

/// <summary>The reference picker lists the user's uploads and gallery images under their own labels, never another user's.</summary>
public sealed class ReferenceImagePickerTests : MudTestContext, IDisposable
{
    private readonly QueueHarness _h = new();

    protected override void ConfigureServices(IServiceCollection services)
    {
        services.AddSingleton(_h.Gallery);
        services.AddSingleton(_h.Uploads);
    }

    [Fact]
    public async Task UploadsAndGalleryImages_AreShownUnderTheirOwnLabels()
    {
        var ct = Xunit.TestContext.Current.CancellationToken;
        var me = await _h.Database.AddUserAsync("me@x.test");
        var other = await _h.Database.AddUserAsync("other@x.test");
        using (var png = new MemoryStream(Uploads.UploadCorpus.NoisePng()))
            await _h.Uploads.CreateAsync(me, png, png.Length, ct);
        var mine = await Sharing.SharingSeed.AddImageAsync(_h.Database, _h.Store, me, "a red circle");
        var theirs = await Sharing.SharingSeed.AddImageAsync(_h.Database, _h.Store, other, "a blue star", DiffusionGallery.Web.Data.Entities.ImageVisibility.Public);

        var picker = Render<ReferenceImagePicker>(p => p.Add(x => x.UserId, me));

        picker.WaitForAssertion(() => Assert.Single(picker.FindAll("[data-testid=reference-upload]")));
        Assert.Equal("Your uploads", picker.Find("[data-testid=reference-uploads-label]").TextContent.Trim());
        Assert.Equal("From your gallery", picker.Find("[data-testid=reference-images-label]").TextContent.Trim());
        Assert.Equal([mine.Id.ToString()], picker.FindAll("[data-testid=reference-image]").Select(b => b.GetAttribute("data-image-id")));
        Assert.DoesNotContain(theirs.Id.ToString(), picker.Markup);
    }

    [Fact]
    public async Task WithoutUploads_OnlyTheGalleryLabelShows()
    {
        var me = await _h.Database.AddUserAsync("me@x.test");
        await Sharing.SharingSeed.AddImageAsync(_h.Database, _h.Store, me, "a red circle");

        var picker = Render<ReferenceImagePicker>(p => p.Add(x => x.UserId, me));

        picker.WaitForAssertion(() => Assert.Single(picker.FindAll("[data-testid=reference-image]")));
        Assert.Empty(picker.FindAll("[data-testid=reference-uploads-label]"));
    }

    public new void Dispose()
    {
        base.Dispose();
        _h.Dispose();
    }
}
