using DiffusionGallery.Web.Data.Entities;
using DiffusionGallery.Web.Gallery;
using DiffusionGallery.Web.Options;
using DiffusionGallery.Web.Sharing;
using DiffusionGallery.Web.Tests.Support;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging.Abstractions;
using MsOptions = Microsoft.Extensions.Options.Options;

namespace DiffusionGallery.Web.Tests.Sharing;

/// <summary>
/// Explore's prompt search on the FTS5 index (migration ExploreSearch) in a real SQLite file: words, case, AND, prefix;
/// only Public images with visible prompts, whatever path changes them; FTS syntax in the text is never syntax.
/// </summary>
public sealed class ExploreSearchTests : IDisposable
{
    private readonly TestDatabase _db = new();

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private ExploreService Explore => new(_db, new SharedImageReader(_db), TimeProvider.System);

    private SharingService Sharing => new(_db, new UserProfiles(_db, NullLogger<UserProfiles>.Instance), NullLogger<SharingService>.Instance);

    private async Task<HashSet<Guid>> SearchAsync(string search)
    {
        var page = await Explore.QueryAsync(new ExploreQuery(Search: search, PageSize: ExploreService.MaxPageSize), Viewer.Anonymous, Ct);
        Assert.Equal(page.Total, page.Items.Count);
        return page.Items.Select(i => i.Id).ToHashSet();
    }

    [Fact]
    public async Task Search_MatchesWholeWords_CaseInsensitive_EveryWord_LastWordAsPrefix()
    {
        var owner = await _db.AddUserAsync("a@x.test");
        var redCircle = await SharingSeed.AddImageAsync(_db, null, owner, "a Red circle over the sea", ImageVisibility.Public);
        var blueCircle = await SharingSeed.AddImageAsync(_db, null, owner, "blue CIRCLE, sunset sky", ImageVisibility.Public);
        var redSquare = await SharingSeed.AddImageAsync(_db, null, owner, "red square (masterpiece:1.2)", ImageVisibility.Public);

        Assert.Equal([redCircle.Id, redSquare.Id], await SearchAsync("red"));
        Assert.Equal([redCircle.Id, redSquare.Id], await SearchAsync("RED"));
        Assert.Equal([redCircle.Id, blueCircle.Id], await SearchAsync("Circle"));
        Assert.Equal([redCircle.Id], await SearchAsync("red circle"));
        Assert.Equal([redCircle.Id], await SearchAsync("circle   red")); // every word, in any order
        Assert.Equal([redCircle.Id, blueCircle.Id], await SearchAsync("circ")); // the last word as a prefix, as typed
        Assert.Equal([redSquare.Id], await SearchAsync("red squ"));
        Assert.Empty(await SearchAsync("re circle")); // only the last word is a prefix
        Assert.Empty(await SearchAsync("ircle")); // words, not substrings
        Assert.Empty(await SearchAsync("red triangle"));
        Assert.Equal([redSquare.Id], await SearchAsync("masterpiece 1.2"));
    }

    [Fact]
    public async Task Search_NeverShowsPrivateUnlistedHiddenPromptOrTakenDownImages()
    {
        var owner = await _db.AddUserAsync("a@x.test");
        var shown = await SharingSeed.AddImageAsync(_db, null, owner, "green star", ImageVisibility.Public);
        await SharingSeed.AddImageAsync(_db, null, owner, "green star", ImageVisibility.Private);
        await SharingSeed.AddImageAsync(_db, null, owner, "green star", ImageVisibility.Unlisted);
        await SharingSeed.AddImageAsync(_db, null, owner, "green star", ImageVisibility.Public, hidePrompt: true);
        var takenDown = await SharingSeed.AddImageAsync(_db, null, owner, "green star", ImageVisibility.Public);
        await using (var db = _db.CreateDbContext())
            await db.GeneratedImages.Where(i => i.Id == takenDown.Id).ExecuteUpdateAsync(s => s.SetProperty(i => i.TakenDownAt, DateTimeOffset.UtcNow), Ct);

        Assert.Equal([shown.Id], await SearchAsync("green star"));
        Assert.Equal(1, await IndexedRowsAsync()); // the index itself holds only what may be found
    }

    [Fact]
    public async Task Search_FollowsVisibilityHidePromptAndDeletion_ThroughTheAppsOwnServices()
    {
        var owner = await _db.AddUserAsync("a@x.test");
        var store = new ImageStore(MsOptions.Create(new StorageOptions { Root = Path.Combine(_db.Folder, "images") }));
        var image = await SharingSeed.AddImageAsync(_db, store, owner, "purple hexagon");
        var other = await SharingSeed.AddImageAsync(_db, store, owner, "purple hexagon", ImageVisibility.Public);
        Assert.Equal([other.Id], await SearchAsync("purple hexagon"));

        Assert.Equal(1, await Sharing.SetVisibilityAsync(owner, [image.Id], ImageVisibility.Public, Ct));
        Assert.Equal([image.Id, other.Id], await SearchAsync("purple hexagon"));

        await Sharing.PatchAsync(owner, image.Id, new ImageSharingPatch(null, HidePrompt: true, null), Ct);
        Assert.Equal([other.Id], await SearchAsync("purple hexagon"));
        await Sharing.PatchAsync(owner, image.Id, new ImageSharingPatch(null, HidePrompt: false, null), Ct);
        Assert.Equal([image.Id, other.Id], await SearchAsync("purple"));

        await Sharing.PatchAsync(owner, image.Id, new ImageSharingPatch("Unlisted", null, null), Ct);
        Assert.Equal([other.Id], await SearchAsync("purple hexagon"));
        await Sharing.PatchAsync(owner, image.Id, new ImageSharingPatch("Public", null, null), Ct);
        Assert.Equal(1, await Sharing.SetVisibilityAsync(owner, [image.Id], ImageVisibility.Private, Ct));
        Assert.Equal([other.Id], await SearchAsync("purple hexagon"));

        var gallery = new GalleryService(_db, store, NullLogger<GalleryService>.Instance);
        Assert.True(await gallery.DeleteAsync(owner, other.Id, Ct));
        Assert.Empty(await SearchAsync("purple hexagon"));
        Assert.Equal(0, await IndexedRowsAsync());
    }

    [Theory]
    [InlineData("\"", false)]
    [InlineData("\"red", true)]
    [InlineData("red\"", true)]
    [InlineData("red*", true)]
    [InlineData("*red", true)]
    [InlineData("-red", true)]
    [InlineData("^red", true)]
    [InlineData("(red)", true)]
    [InlineData("red + ", true)]
    [InlineData("red -blue", false)] // not "red but not blue": both words must be there
    [InlineData("Prompt:red", false)] // not a column filter: "prompt" is a word to find
    [InlineData("{Prompt}: red", false)]
    [InlineData("red', 'x'); DROP TABLE GeneratedImages; --", false)]
    public async Task FtsSyntaxInTheText_IsOnlyText(string search, bool findsRed)
    {
        var owner = await _db.AddUserAsync("a@x.test");
        var red = await SharingSeed.AddImageAsync(_db, null, owner, "red circle", ImageVisibility.Public);
        await SharingSeed.AddImageAsync(_db, null, owner, "blue circle", ImageVisibility.Public);

        Assert.Equal(findsRed ? [red.Id] : [], await SearchAsync(search));
        Assert.Equal(2, (await Explore.QueryAsync(new ExploreQuery(), Viewer.Anonymous, Ct)).Total);
    }

    [Theory]
    [InlineData("NEAR(red circle)")]
    [InlineData("red OR blue")]
    [InlineData("red AND NOT blue")]
    [InlineData("red NEAR blue")]
    public async Task FtsOperatorsInTheText_AreWordsToFind(string search)
    {
        var owner = await _db.AddUserAsync("a@x.test");
        await SharingSeed.AddImageAsync(_db, null, owner, "red circle", ImageVisibility.Public);
        await SharingSeed.AddImageAsync(_db, null, owner, "blue circle", ImageVisibility.Public);
        var literal = await SharingSeed.AddImageAsync(_db, null, owner, "near red circle or blue and not nothing", ImageVisibility.Public);

        // As operators these would match the plain images; as words only the prompt that holds them matches.
        Assert.Equal([literal.Id], await SearchAsync(search));
    }

    [Theory]
    [InlineData("***")]
    [InlineData("\"\"")]
    [InlineData(" - : ^ ")]
    [InlineData("()")]
    public async Task TextWithoutWords_FindsNothing_WithoutError(string search)
    {
        var owner = await _db.AddUserAsync("a@x.test");
        await SharingSeed.AddImageAsync(_db, null, owner, "red *** circle \"quoted\" - : ^ ()", ImageVisibility.Public);

        var page = await Explore.QueryAsync(new ExploreQuery(Search: search), Viewer.Anonymous, Ct);

        Assert.Equal((0, 0), (page.Total, page.Items.Count));
    }

    [Fact]
    public async Task UnicodeWords_MatchAcrossCaseAndAccents()
    {
        var owner = await _db.AddUserAsync("a@x.test");
        var cafe = await SharingSeed.AddImageAsync(_db, null, owner, "Café ÜBER der Straße, ночь", ImageVisibility.Public);
        var cat = await SharingSeed.AddImageAsync(_db, null, owner, "猫 🐱 emoji", ImageVisibility.Public);

        Assert.Equal([cafe.Id], await SearchAsync("cafe"));
        Assert.Equal([cafe.Id], await SearchAsync("CAFÉ über"));
        Assert.Equal([cafe.Id], await SearchAsync("НОЧЬ"));
        Assert.Equal([cafe.Id], await SearchAsync("straße"));
        Assert.Equal([cat.Id], await SearchAsync("猫"));
        Assert.Equal([cat.Id], await SearchAsync("🐱 emoji")); // the emoji is not a word; "emoji" is
    }

    [Fact]
    public async Task Search_KeepsSortAndPaging()
    {
        var owner = await _db.AddUserAsync("a@x.test");
        var start = DateTimeOffset.UtcNow.AddHours(-1);
        var images = new List<GeneratedImage>();
        for (var i = 0; i < 5; i++)
            images.Add(await SharingSeed.AddImageAsync(_db, null, owner, $"yellow heart {i}", ImageVisibility.Public, createdAt: start.AddMinutes(i)));
        await SharingSeed.AddImageAsync(_db, null, owner, "yellow square", ImageVisibility.Public, createdAt: start.AddMinutes(10));

        var first = await Explore.QueryAsync(new ExploreQuery(Search: "yellow heart", Page: 1, PageSize: 2), Viewer.Anonymous, Ct);
        var third = await Explore.QueryAsync(new ExploreQuery(Search: "yellow heart", Page: 3, PageSize: 2), Viewer.Anonymous, Ct);

        Assert.Equal(5, first.Total);
        Assert.Equal([images[4].Id, images[3].Id], first.Items.Select(i => i.Id));
        Assert.Equal([images[0].Id], third.Items.Select(i => i.Id));
    }

    [Fact]
    public async Task Search_WithOtherFilters_CountsOnlyWhatTheyKeep()
    {
        var owner = await _db.AddUserAsync("a@x.test");
        var other = await _db.AddUserAsync("b@x.test");
        var recent = await SharingSeed.AddImageAsync(_db, null, owner, "white star", ImageVisibility.Public);
        await SharingSeed.AddImageAsync(_db, null, owner, "white star", ImageVisibility.Public, createdAt: DateTimeOffset.UtcNow.AddDays(-20));
        var otherModel = await SharingSeed.AddImageAsync(_db, null, other, "white star", ImageVisibility.Public, model: "other-model");

        async Task<(int Total, HashSet<Guid> Ids)> Run(ExploreQuery q)
        {
            var page = await Explore.QueryAsync(q, Viewer.Anonymous, Ct);
            return (page.Total, page.Items.Select(i => i.Id).ToHashSet());
        }

        Assert.Equal(3, (await Run(new ExploreQuery(Search: "white star"))).Total);
        var week = await Run(new ExploreQuery(Search: "white star", Period: ExplorePeriod.Week));
        Assert.Equal(2, week.Total);
        Assert.Equal([recent.Id, otherModel.Id], week.Ids);
        var model = await Run(new ExploreQuery(Search: "white star", Model: "other-model"));
        Assert.Equal(1, model.Total);
        Assert.Equal([otherModel.Id], model.Ids);
        var creator = await Run(new ExploreQuery(Search: "white", CreatorId: other));
        Assert.Equal(1, creator.Total);
        Assert.Equal([otherModel.Id], creator.Ids);
    }

    [Theory]
    [InlineData("red circle", "\"red\" AND \"circle\"*")]
    [InlineData("  NEAR(red)  ", "\"NEAR\" AND \"red\"*")]
    [InlineData("a\"b*c", "\"a\" AND \"b\" AND \"c\"*")]
    [InlineData("-:^", null)]
    public void MatchExpression_QuotesEveryWord(string search, string? expected) =>
        Assert.Equal(expected, ExploreSearchQuery.MatchExpression(search));

    [Fact]
    public void Words_AreCapped() =>
        Assert.Equal(ExploreSearchQuery.MaxWords, ExploreSearchQuery.Words(string.Join(' ', Enumerable.Range(0, 50).Select(i => $"w{i}"))).Count);

    private async Task<int> IndexedRowsAsync()
    {
        await using var db = _db.CreateDbContext();
        return await db.Database.SqlQuery<int>($"SELECT COUNT(*) AS Value FROM ExploreSearchDocuments").SingleAsync(Ct);
    }

    public void Dispose() => _db.Dispose();
}
