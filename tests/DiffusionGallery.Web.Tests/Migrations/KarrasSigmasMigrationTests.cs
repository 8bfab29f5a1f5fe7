using DiffusionGallery.Web.Tests.Support;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Migrations;

namespace DiffusionGallery.Web.Tests.Migrations;

/// <summary>Rows written before the KarrasSigmas migration read back with Karras off.</summary>
public sealed class KarrasSigmasMigrationTests
{
    private const string PreviousMigration = "20261201191501_QuotaPoliciesAndLikes";

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static Task<int> KarrasColumnsAsync(DiffusionGallery.Web.Data.ApplicationDbContext db) => db.Database.SqlQuery<int>($"""
        SELECT (SELECT COUNT(*) FROM pragma_table_info('GenerationJobs') WHERE name = 'KarrasSigmas')
             + (SELECT COUNT(*) FROM pragma_table_info('GeneratedImages') WHERE name = 'KarrasSigmas') AS Value
        """).SingleAsync(Ct);

    [Fact]
    public async Task ExistingJobsAndImages_DefaultToFalse()
    {
        using var database = new TestDatabase();
        var userId = await database.AddUserAsync("old@x.test");
        var jobId = Guid.NewGuid();
        var imageId = Guid.NewGuid();
        var (job, image) = (jobId.ToString().ToUpperInvariant(), imageId.ToString().ToUpperInvariant()); // EF's SQLite Guid text form
        await using (var db = database.CreateDbContext())
        {
            await db.GetService<IMigrator>().MigrateAsync(PreviousMigration, Ct);
            Assert.Equal(PreviousMigration, (await db.Database.GetAppliedMigrationsAsync(Ct)).Last());
            Assert.Equal(0, await KarrasColumnsAsync(db));
            await db.Database.ExecuteSqlAsync($"""
                INSERT INTO GenerationJobs (Id, OwnerId, State, CreatedAt, BatchCount, GuidanceScale, Height, Model, NegativePrompt, Prompt, Sampler, BaseSeed, Steps, Temperature, Width)
                VALUES ({job}, {userId}, 'Succeeded', 0, 1, 7.0, 128, 'tiny-shapes', '', 'an old prompt', 'DpmPlusPlus2M', 5, 20, 1.0, 128)
                """, Ct);
            await db.Database.ExecuteSqlAsync($"""
                INSERT INTO GeneratedImages (Id, OwnerId, JobId, Seed, GeneratedImage_Width, GeneratedImage_Height, ModelName, ModelHash, ExecutionProvider, ParametersText, FileHash, FileSize, CreatedAt,
                    BatchCount, GuidanceScale, Height, Model, NegativePrompt, Prompt, Sampler, BaseSeed, Steps, Temperature, Width, Visibility)
                VALUES ({image}, {userId}, {job}, 5, 128, 128, 'tiny-shapes', 'abc', 'CPU', 'p', '00', 1, 0,
                    1, 7.0, 128, 'tiny-shapes', '', 'an old prompt', 'DpmPlusPlus2M', 5, 20, 1.0, 128, 'Private')
                """, Ct);
        }

        await using (var db = database.CreateDbContext())
        {
            await db.Database.MigrateAsync(Ct);
            Assert.Empty(await db.Database.GetPendingMigrationsAsync(Ct));
            Assert.Equal(2, await KarrasColumnsAsync(db));
            var oldJob = await db.GenerationJobs.AsNoTracking().SingleAsync(j => j.Id == jobId, Ct);
            var oldImage = await db.GeneratedImages.AsNoTracking().SingleAsync(i => i.Id == imageId, Ct);
            Assert.Equal(("an old prompt", false), (oldJob.Settings.Prompt, oldJob.Settings.KarrasSigmas));
            Assert.Equal(("an old prompt", false), (oldImage.Settings.Prompt, oldImage.Settings.KarrasSigmas));
        }
    }
}
