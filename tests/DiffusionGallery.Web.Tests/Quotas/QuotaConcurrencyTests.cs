using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using DiffusionGallery.Web.Data;
using DiffusionGallery.Web.Data.Entities;
using DiffusionGallery.Web.Quotas;
using DiffusionGallery.Web.Tests.Integration;
using Microsoft.AspNetCore.SignalR;
using Microsoft.AspNetCore.SignalR.Client;
using Microsoft.EntityFrameworkCore;

namespace DiffusionGallery.Web.Tests.Quotas;

/// <summary>
/// A user with 10 images left fires 50 submissions at once from several sessions, REST (two tokens and the cookie) and
/// hub (two connections) mixed: exactly 10 are accepted and 40 refused with the quota message; the ledger, the
/// <c>GET /api/me/quota</c> figures and the jobs table agree. Repeated 20 times on the real SQLite file.
/// </summary>
public sealed class QuotaConcurrencyTests(ITestOutputHelper output)
{
    private const int Left = 10, Concurrent = 50, Repetitions = 20;

    [Fact]
    public async Task FiftyMixedRestAndHubSubmissions_WithTenLeft_ExactlyTenAccepted_LedgerAgrees()
    {
        await using var app = new GalleryAppFactory();
        app.Settings["Generation:MaxQueuedJobsPerUser"] = "100"; // only the daily quota limits here
        var (adminCookie, _) = await app.RegisterAsync($"admin-{Guid.NewGuid():N}@example.test");
        var accepted = new List<int>();
        for (var rep = 0; rep < Repetitions; rep++)
        {
            var (cookie, userId) = await app.RegisterAsync($"race-{rep}-{Guid.NewGuid():N}@example.test");
            // 12 per day, 2 already used: 10 left.
            Assert.Equal(HttpStatusCode.OK, (await adminCookie.PutAsJsonAsync($"/api/admin/users/{userId}/quota", new { imagesPerDay = Left + 2 })).StatusCode);
            await SeedUsedAsync(app, userId, 2);

            using var tokenA = app.CreateTokenClient(await app.CreateTokenAsync(userId, "a"));
            using var tokenB = app.CreateTokenClient(await app.CreateTokenAsync(userId, "b"));
            await using var hubA = await app.ConnectHubAsync(await app.CreateTokenAsync(userId, "hub-a"));
            await using var hubB = await app.ConnectHubAsync(await app.CreateTokenAsync(userId, "hub-b"));
            var refusals = new ConcurrentBag<string>();
            using var start = new ManualResetEventSlim();
            var attempts = Enumerable.Range(0, Concurrent).Select(i => Task.Run(async () =>
            {
                start.Wait();
                var body = new { prompt = "a red circle", steps = 2, seed = i, width = 64, height = 64 };
                switch (i % 5)
                {
                    case 0 or 1 or 2:
                        var client = i % 5 == 0 ? tokenA : i % 5 == 1 ? tokenB : cookie;
                        var response = await client.PostAsJsonAsync("/api/generations", body);
                        if (response.StatusCode == HttpStatusCode.Accepted) return true;
                        Assert.Equal(HttpStatusCode.TooManyRequests, response.StatusCode);
                        refusals.Add((await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("detail").GetString()!);
                        return false;
                    default:
                        var hub = i % 5 == 3 ? hubA : hubB;
                        try
                        {
                            await hub.InvokeAsync<JsonElement>("Submit", body);
                            return true;
                        }
                        catch (HubException ex)
                        {
                            refusals.Add(ex.Message);
                            return false;
                        }
                }
            })).ToList();
            start.Set();
            var results = await Task.WhenAll(attempts);
            accepted.Add(results.Count(ok => ok));

            Assert.Equal(Concurrent - accepted[^1], refusals.Count);
            Assert.All(refusals, message => Assert.Contains("images per day", message));
            Assert.All(refusals, message => Assert.Contains("resets at", message));
            await using var db = app.CreateDbContext();
            var used = await UsageLedger.UsedSinceAsync(db, userId, new DateTimeOffset(DateTime.UtcNow.Date, TimeSpan.Zero));
            Assert.Equal(Left + 2, used.Images);
            Assert.Equal(accepted[^1] + 1, await db.GenerationJobs.CountAsync(j => j.OwnerId == userId)); // + the seeded earlier job
            var status = await tokenA.GetFromJsonAsync<JsonElement>("/api/me/quota");
            Assert.Equal(0, status.GetProperty("imagesLeft").GetInt32());
        }
        output.WriteLine($"accepted per repetition: {string.Join(",", accepted)}");
        Assert.All(accepted, count => Assert.Equal(Left, count));
    }

    /// <summary>Images the user made earlier today: a reservation and its charge, as the worker leaves them.</summary>
    private static async Task SeedUsedAsync(GalleryAppFactory app, string userId, int images)
    {
        await using var db = app.CreateDbContext();
        var now = DateTimeOffset.UtcNow;
        var job = new GenerationJob
        {
            Id = Guid.CreateVersion7(), OwnerId = userId, State = JobState.Succeeded, CreatedAt = now, FinishedAt = now,
            Settings = new GenerationSettings { Prompt = "earlier", Model = "tiny-shapes", BatchCount = images },
        };
        db.GenerationJobs.Add(job);
        db.UsageEntries.Add(new UsageEntry { UserId = userId, JobId = job.Id, Kind = UsageKind.Reservation, Images = images, CreatedAt = now });
        db.UsageEntries.Add(new UsageEntry { UserId = userId, JobId = job.Id, Kind = UsageKind.Charge, Images = images, GpuSeconds = 1, CreatedAt = now });
        await db.SaveChangesAsync();
    }
}
