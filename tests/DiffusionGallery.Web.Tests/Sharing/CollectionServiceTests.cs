using DiffusionGallery.Web.Sharing;
using DiffusionGallery.Web.Tests.Support;
using Microsoft.Extensions.Logging.Abstractions;

namespace DiffusionGallery.Web.Tests.Sharing;

/// <summary>Taking images out of a collection: the rest keep their order, the cover goes with its image, only the owner.</summary>
public sealed class CollectionServiceTests : IDisposable
{
    private readonly TestDatabase _db = new();
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private CollectionService NewService() =>
        new(_db, new SharedImageReader(_db), new UserProfiles(_db, NullLogger<UserProfiles>.Instance), TimeProvider.System);

    [Fact]
    public async Task RemoveImages_KeepsTheOthersInOrder_AndDropsARemovedCover()
    {
        var me = await _db.AddUserAsync("me@x.test");
        var a = await SharingSeed.AddImageAsync(_db, null, me, "a");
        var b = await SharingSeed.AddImageAsync(_db, null, me, "b");
        var c = await SharingSeed.AddImageAsync(_db, null, me, "c");
        var service = NewService();
        var collection = await service.CreateAsync(me, new CollectionCreate("Mine", null), Ct);
        await service.SetImagesAsync(me, collection.Id, new CollectionImagesPut([a.Id, b.Id, c.Id]), Ct);
        await service.PatchAsync(me, collection.Id, new CollectionPatch(null, null, null, b.Id), Ct);

        var after = await service.RemoveImagesAsync(me, collection.Id, [b.Id], Ct);

        Assert.Equal([a.Id, c.Id], after!.ImageIds);
        Assert.Null(after.CoverImageId);
        var view = await service.GetWithImagesAsync(me, collection.Id, Ct);
        Assert.Equal([a.Id, c.Id], view!.Images.Select(i => i.Id));
    }

    [Fact]
    public async Task SomeoneElse_CannotRemoveOrSeeTheImages()
    {
        var owner = await _db.AddUserAsync("owner@x.test");
        var other = await _db.AddUserAsync("other@x.test");
        var image = await SharingSeed.AddImageAsync(_db, null, owner, "mine");
        var service = NewService();
        var collection = await service.CreateAsync(owner, new CollectionCreate("Mine", null), Ct);
        await service.AddImagesAsync(owner, collection.Id, [image.Id], Ct);

        Assert.Null(await service.RemoveImagesAsync(other, collection.Id, [image.Id], Ct));
        Assert.Null(await service.GetWithImagesAsync(other, collection.Id, Ct));
        Assert.Equal([image.Id], (await service.GetAsync(owner, collection.Id, Ct))!.ImageIds);
    }

    public void Dispose() => _db.Dispose();
}
