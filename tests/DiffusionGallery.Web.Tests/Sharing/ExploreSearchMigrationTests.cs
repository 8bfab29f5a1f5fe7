using DiffusionGallery.Web.Data.Entities;
using DiffusionGallery.Web.Sharing;
using DiffusionGallery.Web.Tests.Support;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Migrations.Operations;

namespace DiffusionGallery.Web.Tests.Sharing;

/// <summary>The ExploreSearch migration on a database that already has images: it back-fills the index with the
/// searchable ones only, and its Down removes the index and its triggers without touching the images. Its own Up/Down
/// operations run on the current schema (migrating the whole database down would also undo later migrations, whose
/// columns the seeding entities need).</summary>
public sealed class ExploreSearchMigrationTests : IDisposable
{

    private readonly TestDatabase _db = new();

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static Task<int> SearchObjectsAsync(DiffusionGallery.Web.Data.ApplicationDbContext db) => db.Database.SqlQuery<int>($"""
        SELECT COUNT(*) AS Value FROM sqlite_master WHERE name LIKE 'ExploreSearch%' OR name LIKE '%_ExploreSearch_%'
        """).SingleAsync(Ct);

    [Fact]
    public async Task OnAnExistingDatabase_BackFillsOnlySearchableImages_AndDownRemovesTheIndex()
    {
        var owner = await _db.AddUserAsync("old@x.test");
        var migration = new DiffusionGallery.Web.Data.Migrations.ExploreSearch();
        await using (var db = _db.CreateDbContext())
        {
            Assert.Contains(await db.Database.GetAppliedMigrationsAsync(Ct), m => m.EndsWith("_ExploreSearch", StringComparison.Ordinal));
            await RunAsync(db, migration.DownOperations);
            Assert.Equal(0, await SearchObjectsAsync(db));
        }
        var shown = await SharingSeed.AddImageAsync(_db, null, owner, "old orange triangle", ImageVisibility.Public);
        await SharingSeed.AddImageAsync(_db, null, owner, "old orange triangle", ImageVisibility.Private);
        await SharingSeed.AddImageAsync(_db, null, owner, "old orange triangle", ImageVisibility.Unlisted);
        await SharingSeed.AddImageAsync(_db, null, owner, "old orange triangle", ImageVisibility.Public, hidePrompt: true);
        var takenDown = await SharingSeed.AddImageAsync(_db, null, owner, "old orange triangle", ImageVisibility.Public);
        await using (var db = _db.CreateDbContext())
        {
            await db.GeneratedImages.Where(i => i.Id == takenDown.Id).ExecuteUpdateAsync(s => s.SetProperty(i => i.TakenDownAt, DateTimeOffset.UtcNow), Ct);
            await RunAsync(db, migration.UpOperations);
            // the FTS table, its content table (+ its shadow tables) and five triggers
            Assert.True(await SearchObjectsAsync(db) >= 7);
        }

        var explore = new ExploreService(_db, new SharedImageReader(_db), TimeProvider.System);
        var page = await explore.QueryAsync(new ExploreQuery(Search: "Orange TRI"), Viewer.Anonymous, Ct);
        Assert.Equal([shown.Id], page.Items.Select(i => i.Id));
        Assert.Equal(1, page.Total);
        Assert.Equal(2, (await explore.QueryAsync(new ExploreQuery(), Viewer.Anonymous, Ct)).Total); // the feed itself: both Public ones, hidden prompt too
    }

    private static async Task RunAsync(DiffusionGallery.Web.Data.ApplicationDbContext db, IReadOnlyList<MigrationOperation> operations)
    {
        var connection = db.Database.GetDbConnection();
        await db.Database.OpenConnectionAsync(Ct);
        foreach (var operation in operations)
        {
            await using var command = connection.CreateCommand();
            command.CommandText = Assert.IsType<SqlOperation>(operation).Sql;
            await command.ExecuteNonQueryAsync(Ct);
        }
    }

    public void Dispose() => _db.Dispose();
}
