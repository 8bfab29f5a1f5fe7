using DiffusionGallery.Web.Data.Entities;
using Microsoft.EntityFrameworkCore;

namespace DiffusionGallery.Web.Tests.Integration;

public sealed class RecoveryTests
{
    [Fact]
    public async Task Restart_QueuedJobsResumeAndInterruptedJobFails()
    {
        var folder = Directory.CreateTempSubdirectory("dg-restart-").FullName;
        try
        {
            string userId;
            await using (var first = new GalleryAppFactory(folder))
            {
                (_, userId) = await first.RegisterAsync("restart@example.test");
            }

            // What a killed process leaves behind: one job mid-run, two waiting.
            var queued = new[] { Guid.CreateVersion7(), Guid.CreateVersion7() };
            var interrupted = Guid.CreateVersion7();
            {
                await using (var db = new DiffusionGallery.Web.Data.ApplicationDbContext(new DbContextOptionsBuilder<DiffusionGallery.Web.Data.ApplicationDbContext>().UseSqlite($"Data Source={Path.Combine(folder, "app.db")}").Options))
                {
                    db.GenerationJobs.Add(new GenerationJob { Id = interrupted, OwnerId = userId, State = JobState.Running, CreatedAt = DateTimeOffset.UtcNow.AddMinutes(-3), StartedAt = DateTimeOffset.UtcNow.AddMinutes(-2), Settings = new GenerationSettings { Prompt = "a circle", Model = "tiny-shapes", Steps = 4 } });
                    foreach (var id in queued)
                        db.GenerationJobs.Add(new GenerationJob { Id = id, OwnerId = userId, State = JobState.Queued, CreatedAt = DateTimeOffset.UtcNow.AddMinutes(-1), Settings = new GenerationSettings { Prompt = "a blue square", Model = "tiny-shapes", Steps = 4, Seed = 3 } });
                    await db.SaveChangesAsync();
                }
            }

            await using var third = new GalleryAppFactory(folder);
            _ = third.Server;
            await GenerationFlowTests.WaitUntilAsync(async () =>
            {
                await using var db = third.CreateDbContext();
                return await db.GenerationJobs.CountAsync(j => queued.Contains(j.Id) && j.State == JobState.Succeeded) == 2;
            });
            await using var check = third.CreateDbContext();
            var failed = await check.GenerationJobs.SingleAsync(j => j.Id == interrupted);
            Assert.Equal(JobState.Failed, failed.State);
            Assert.Contains("stopped", failed.Error);
            Assert.Equal(2, await check.GeneratedImages.CountAsync(i => i.JobId != null && queued.Contains(i.JobId.Value)));
        }
        finally
        {
            Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
            try { Directory.Delete(folder, recursive: true); } catch (IOException) { }
        }
    }
}
