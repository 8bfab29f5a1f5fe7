using DiffusionGallery.Web.Data.Entities;
using DiffusionGallery.Web.Gallery;
using DiffusionGallery.Web.Generation;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace DiffusionGallery.Web.Tests.Integration;

/// <summary>Defect 3: what a killed process leaves behind is put right at the next start, on the real SQLite file and image folder.</summary>
public sealed class RecoveryTests
{
    [Fact]
    public async Task Restart_InterruptedOnceRunsAgainOnce_InterruptedTwiceFailsAndIsRefunded_QueuedResume_OrphanFilesSwept()
    {
        var folder = Directory.CreateTempSubdirectory("dg-restart-").FullName;
        try
        {
            string userId;
            Guid keptImage;
            string imagesRoot;
            await using (var first = new GalleryAppFactory(folder))
            {
                (_, userId) = await first.RegisterAsync("restart@example.test");
                var done = await first.SubmitAsAsync(userId, new GenerationSettings { Prompt = "a green circle", Model = "tiny-shapes", Steps = 2, Seed = 5 });
                await GenerationFlowTests.WaitUntilAsync(async () =>
                {
                    await using var db = first.CreateDbContext();
                    return await db.GenerationJobs.AnyAsync(j => j.Id == done.Id && j.State == JobState.Succeeded);
                });
                await using var read = first.CreateDbContext();
                keptImage = await read.GeneratedImages.Where(i => i.JobId == done.Id).Select(i => i.Id).SingleAsync();
                imagesRoot = first.Services.GetRequiredService<ImageStore>().RootPath;
            }

            // What a killed process leaves behind: a job interrupted once, one interrupted for the second time, two
            // waiting, the files of an image whose row was never committed, and a half-written temporary file.
            var queued = new[] { Guid.CreateVersion7(), Guid.CreateVersion7() };
            var interruptedOnce = Guid.CreateVersion7();
            var interruptedTwice = Guid.CreateVersion7();
            var orphan = Guid.CreateVersion7();
            await using (var db = new DiffusionGallery.Web.Data.ApplicationDbContext(new DbContextOptionsBuilder<DiffusionGallery.Web.Data.ApplicationDbContext>().UseSqlite($"Data Source={Path.Combine(folder, "app.db")}").Options))
            {
                GenerationJob Job(Guid id, JobState state, int attempts, int minutesAgo, int batch) => new()
                {
                    Id = id, OwnerId = userId, State = state, Attempts = attempts, CreatedAt = DateTimeOffset.UtcNow.AddMinutes(-minutesAgo),
                    StartedAt = state == JobState.Running ? DateTimeOffset.UtcNow.AddMinutes(-1) : null,
                    Settings = new GenerationSettings { Prompt = "a blue square", Model = "tiny-shapes", Steps = 2, Seed = 3, BatchCount = batch },
                };
                db.GenerationJobs.AddRange(Job(interruptedOnce, JobState.Running, 1, 4, 2), Job(interruptedTwice, JobState.Running, 2, 5, 3),
                    Job(queued[0], JobState.Queued, 0, 2, 1), Job(queued[1], JobState.Queued, 0, 1, 1));
                foreach (var (id, images) in new[] { (interruptedOnce, 2), (interruptedTwice, 3), (queued[0], 1), (queued[1], 1) })
                    db.UsageEntries.Add(new UsageEntry { UserId = userId, JobId = id, Kind = UsageKind.Reservation, Images = images, CreatedAt = DateTimeOffset.UtcNow.AddMinutes(-5) });
                await db.SaveChangesAsync();
            }
            var shard = Path.Combine(imagesRoot, orphan.ToString("N")[^2..]);
            Directory.CreateDirectory(shard);
            var orphanFiles = new[] { Path.Combine(shard, $"{orphan:N}.png"), Path.Combine(shard, $"{orphan:N}.thumb.webp"), Path.Combine(shard, $"{orphan:N}.png.{Guid.NewGuid():N}.tmp") };
            foreach (var file in orphanFiles) await File.WriteAllBytesAsync(file, [1, 2, 3]);
            var stranger = Path.Combine(imagesRoot, "README.txt");
            await File.WriteAllTextAsync(stranger, "not an image of ours");

            await using var second = new GalleryAppFactory(folder);
            _ = second.Server;
            await GenerationFlowTests.WaitUntilAsync(async () =>
            {
                await using var db = second.CreateDbContext();
                return await db.GenerationJobs.CountAsync(j => (queued.Contains(j.Id) || j.Id == interruptedOnce) && j.State == JobState.Succeeded) == 3;
            });

            await using var check = second.CreateDbContext();
            var again = await check.GenerationJobs.SingleAsync(j => j.Id == interruptedOnce);
            Assert.Equal(2, again.Attempts);
            Assert.Equal(2, await check.GeneratedImages.CountAsync(i => i.JobId == interruptedOnce)); // stored once, not twice
            var failed = await check.GenerationJobs.SingleAsync(j => j.Id == interruptedTwice);
            Assert.Equal(JobState.Failed, failed.State);
            Assert.Equal(JobRecovery.GaveUpMessage, failed.Error);
            Assert.Equal(3, (await check.UsageEntries.SingleAsync(u => u.JobId == interruptedTwice && u.Kind == UsageKind.Refund)).Images);
            Assert.Equal(2, (await check.UsageEntries.SingleAsync(u => u.JobId == interruptedOnce && u.Kind == UsageKind.Charge)).Images);
            Assert.Equal(2, await check.GeneratedImages.CountAsync(i => i.JobId != null && queued.Contains(i.JobId.Value)));

            Assert.All(orphanFiles, file => Assert.False(File.Exists(file), $"{file} should have been swept"));
            Assert.True(File.Exists(stranger)); // only our own leftovers are removed
            var store = second.Services.GetRequiredService<ImageStore>();
            Assert.True(File.Exists(store.GetImagePath(keptImage)));
            Assert.True(File.Exists(store.GetThumbnailPath(keptImage)));
            var rows = (await check.GeneratedImages.Select(i => i.Id).ToListAsync()).ToHashSet();
            var files = Directory.EnumerateFiles(imagesRoot, "*.png", SearchOption.AllDirectories).Select(f => Guid.ParseExact(Path.GetFileNameWithoutExtension(f), "N")).ToHashSet();
            Assert.Equal(rows, files); // every image file has its row and every row its file
        }
        finally
        {
            Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
            try { Directory.Delete(folder, recursive: true); } catch (IOException) { }
        }
    }
}
