using DiffusionGallery.Web.Data.Entities;
using DiffusionGallery.Web.Sharing;
using DiffusionGallery.Web.Tests.Support;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging.Abstractions;

namespace DiffusionGallery.Web.Tests.Sharing;

/// <summary>The gallery's selection: several images at once, only the owner's, Private kills links.</summary>
public sealed class SharingServiceTests : IDisposable
{
    private readonly TestDatabase _db = new();

    [Fact]
    public async Task SetVisibility_OnASelection_ChangesOnlyTheOwnersImages_AndPrivateKillsTheirLinks()
    {
        var ct = TestContext.Current.CancellationToken;
        var me = await _db.AddUserAsync("me@x.test");
        var them = await _db.AddUserAsync("them@x.test");
        var a = await SharingSeed.AddImageAsync(_db, null, me, "one");
        var b = await SharingSeed.AddImageAsync(_db, null, me, "two");
        var theirs = await SharingSeed.AddImageAsync(_db, null, them, "theirs");
        var service = new SharingService(_db, new UserProfiles(_db, NullLogger<UserProfiles>.Instance), NullLogger<SharingService>.Instance);

        Assert.Equal(2, await service.SetVisibilityAsync(me, [a.Id, b.Id, theirs.Id], ImageVisibility.Public, ct));
        await using (var db = _db.CreateDbContext())
        {
            var rows = await db.GeneratedImages.AsNoTracking().ToDictionaryAsync(i => i.Id, ct);
            Assert.All(new[] { rows[a.Id], rows[b.Id] }, i => Assert.True(i.Visibility == ImageVisibility.Public && ShareTokens.IsWellFormed(i.ShareToken)));
            Assert.NotEqual(rows[a.Id].ShareToken, rows[b.Id].ShareToken);
            Assert.Equal((ImageVisibility.Private, (string?)null), (rows[theirs.Id].Visibility, rows[theirs.Id].ShareToken));
            Assert.NotNull((await db.Users.SingleAsync(u => u.Id == me, ct)).Handle); // publishing gives a handle
        }

        Assert.Equal(1, await service.SetVisibilityAsync(me, [a.Id], ImageVisibility.Private, ct));
        await using (var db = _db.CreateDbContext())
            Assert.Null((await db.GeneratedImages.SingleAsync(i => i.Id == a.Id, ct)).ShareToken);
        await Assert.ThrowsAsync<SharingException>(() => service.SetVisibilityAsync(me, Enumerable.Range(0, 501).Select(_ => Guid.NewGuid()).ToList(), ImageVisibility.Public, ct));
    }

    public void Dispose() => _db.Dispose();
}
