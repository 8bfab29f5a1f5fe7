using System.Net;
using System.Net.Http.Json;
using DiffusionGallery.Web.Data.Entities;
using DiffusionGallery.Web.Tests.Integration;
using Microsoft.EntityFrameworkCore;

namespace DiffusionGallery.Web.Tests.Quotas;

/// <summary>
/// Defect 1: 50 concurrent POST /api/generations by one user against <c>Quotas:ImagesPerDay=10</c>, on the real
/// SQLite file. The check and the debit are one step, so the accepted images are exactly what fits, never more.
/// </summary>
public sealed class QuotaRaceTests(ITestOutputHelper output)
{
    private const int Limit = 10, Concurrent = 50, Repetitions = 20;

    [Theory]
    [InlineData(1, 10)]
    [InlineData(4, 8)]
    public async Task ConcurrentSubmissions_NeverOverspendNorUnderspendTheDailyQuota(int batch, int expectedImages)
    {
        await using var app = new GalleryAppFactory();
        app.Settings["Quotas:ImagesPerDay"] = Limit.ToString();
        app.Settings["Generation:MaxQueuedJobsPerUser"] = "100"; // only the daily quota limits here
        var accepted = new List<int>();
        for (var rep = 0; rep < Repetitions; rep++)
        {
            var (_, userId) = await app.RegisterAsync($"race-{batch}-{rep}-{Guid.NewGuid():N}@example.test");
            using var api = app.CreateTokenClient(await app.CreateTokenAsync(userId));
            using var start = new ManualResetEventSlim();
            var posts = Enumerable.Range(0, Concurrent).Select(i => Task.Run(async () =>
            {
                start.Wait();
                return await api.PostAsJsonAsync("/api/generations", new { prompt = "a red circle", steps = 2, seed = i, batchCount = batch, width = 64, height = 64 });
            })).ToList();
            start.Set();
            var responses = await Task.WhenAll(posts);
            var codes = responses.Select(r => r.StatusCode).ToList();
            Assert.All(codes, c => Assert.True(c is HttpStatusCode.Accepted or HttpStatusCode.TooManyRequests, $"unexpected {c}"));
            accepted.Add(codes.Count(c => c == HttpStatusCode.Accepted) * batch);
            await AssertLedgerAsync(app, userId, accepted[^1]);
        }
        output.WriteLine($"batch {batch}: images accepted per repetition: {string.Join(",", accepted)}");
        Assert.All(accepted, images => Assert.Equal(expectedImages, images));

        // Once every job has finished, each user's ledger balances: reserved = charged + refunded, charged = images stored.
        await GenerationFlowTests.WaitUntilAsync(async () =>
        {
            await using var db = app.CreateDbContext();
            return !await db.GenerationJobs.AnyAsync(j => j.State == JobState.Queued || j.State == JobState.Running);
        }, seconds: 300);
        await using var check = app.CreateDbContext();
        var perUser = await check.UsageEntries.GroupBy(u => new { u.UserId, u.Kind }).Select(g => new { g.Key.UserId, g.Key.Kind, Images = g.Sum(u => u.Images) }).ToListAsync(TestContext.Current.CancellationToken);
        var stored = await check.GeneratedImages.GroupBy(i => i.OwnerId).Select(g => new { UserId = g.Key, Count = g.Count() }).ToDictionaryAsync(x => x.UserId, x => x.Count, TestContext.Current.CancellationToken);
        foreach (var user in perUser.Select(u => u.UserId).Distinct())
        {
            int Sum(UsageKind kind) => perUser.Where(u => u.UserId == user && u.Kind == kind).Sum(u => u.Images);
            Assert.Equal(expectedImages, Sum(UsageKind.Reservation));
            Assert.Equal(Sum(UsageKind.Reservation), Sum(UsageKind.Charge) + Sum(UsageKind.Refund));
            Assert.Equal(stored.GetValueOrDefault(user), Sum(UsageKind.Charge));
        }
    }

    /// <summary>Right after the burst: the ledger reserved exactly the accepted images, and as many jobs exist as were accepted.</summary>
    private static async Task AssertLedgerAsync(GalleryAppFactory app, string userId, int acceptedImages)
    {
        await using var db = app.CreateDbContext();
        Assert.Equal(acceptedImages, await db.UsageEntries.Where(u => u.UserId == userId && u.Kind == UsageKind.Reservation).SumAsync(u => u.Images));
        Assert.Equal(acceptedImages, await db.GenerationJobs.Where(j => j.OwnerId == userId).SumAsync(j => j.Settings.BatchCount));
    }
}
