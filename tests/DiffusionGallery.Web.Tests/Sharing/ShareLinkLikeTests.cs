using DiffusionGallery.Web.Data.Entities;
using DiffusionGallery.Web.Sharing;
using DiffusionGallery.Web.Tests.Support;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging.Abstractions;

namespace DiffusionGallery.Web.Tests.Sharing;

/// <summary>Liking an Unlisted image through its share link: who may, what a dead link gets, and that the like lists it nowhere.</summary>
public sealed class ShareLinkLikeTests : IDisposable
{
    private readonly TestDatabase _db = new();

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private LikeService Likes => new(_db, new ImageAccess(_db, NullLogger<ImageAccess>.Instance), TimeProvider.System);

    private SharingService Sharing => new(_db, new UserProfiles(_db, NullLogger<UserProfiles>.Instance), NullLogger<SharingService>.Instance);

    [Fact]
    public async Task SignedInViewerWithTheLink_LikesAnUnlistedImage_ButNotById_AndItIsListedNowhere()
    {
        var owner = await _db.AddUserAsync("owner@x.test");
        var viewer = new Viewer(await _db.AddUserAsync("viewer@x.test"), false);
        var image = await SharingSeed.AddImageAsync(_db, null, owner, "unlisted heart", ImageVisibility.Unlisted);

        Assert.Null(await Likes.SetAsync(image.Id, viewer, true, Ct)); // by id the image does not exist for them
        Assert.Equal(new LikeStateDto(image.Id, true, 1), await Likes.SetByShareTokenAsync(image.ShareToken, viewer, true, Ct));
        Assert.Equal(new LikeStateDto(image.Id, true, 1), await Likes.SetByShareTokenAsync(image.ShareToken, viewer, true, Ct)); // one per user
        Assert.Equal(new LikeStateDto(image.Id, true, 2), await Likes.SetByShareTokenAsync(image.ShareToken, new Viewer(owner, false), true, Ct));

        var explore = new ExploreService(_db, new SharedImageReader(_db), TimeProvider.System);
        Assert.Equal(0, (await explore.QueryAsync(new ExploreQuery(LikedBy: viewer.UserId), viewer, Ct)).Total); // the "Liked" tab shows Public only
        Assert.Equal(new LikeStateDto(image.Id, false, 1), await Likes.SetByShareTokenAsync(image.ShareToken, viewer, false, Ct));
    }

    [Fact]
    public async Task Anonymous_IsAskedToSignIn_AndDeadOrBadLinksLikeNothing()
    {
        var owner = await _db.AddUserAsync("owner@x.test");
        var viewer = new Viewer(await _db.AddUserAsync("viewer@x.test"), false);
        var image = await SharingSeed.AddImageAsync(_db, null, owner, "unlisted heart", ImageVisibility.Unlisted);

        var anonymous = await Assert.ThrowsAsync<SharingException>(() => Likes.SetByShareTokenAsync(image.ShareToken, Viewer.Anonymous, true, Ct));
        Assert.Equal(401, anonymous.Status);
        Assert.Null(await Likes.SetByShareTokenAsync("not-a-token", viewer, true, Ct));
        Assert.Null(await Likes.SetByShareTokenAsync(null, viewer, true, Ct));

        var rotated = await Sharing.RotateLinkAsync(owner, image.Id, Ct);
        Assert.NotNull(rotated);
        Assert.Null(await Likes.SetByShareTokenAsync(image.ShareToken, viewer, true, Ct)); // the old link is dead at once
        var newToken = rotated.ShareUrl!.Split('/')[^1];
        Assert.NotNull(await Likes.SetByShareTokenAsync(newToken, viewer, true, Ct));

        Assert.Equal(1, await Sharing.SetVisibilityAsync(owner, [image.Id], ImageVisibility.Private, Ct));
        Assert.Null(await Likes.SetByShareTokenAsync(newToken, viewer, false, Ct)); // Private kills the link
        await using var db = _db.CreateDbContext();
        Assert.Equal(1, (await db.GeneratedImages.SingleAsync(i => i.Id == image.Id, Ct)).LikeCount); // nothing changed through it
    }

    public void Dispose() => _db.Dispose();
}
