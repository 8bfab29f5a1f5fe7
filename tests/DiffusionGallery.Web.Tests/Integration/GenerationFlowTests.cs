using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using DiffusionGallery.Web.Data.Entities;
using DiffusionGallery.Web.Generation;
using DiffusionGallery.Web.Gallery;
using DiffusionGallery.Web.Tests.Support;
using Microsoft.AspNetCore.SignalR.Client;
using Microsoft.AspNetCore.SignalR;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace DiffusionGallery.Web.Tests.Integration;

/// <summary>End to end through the real app, the real SQLite file and the real bundled model on CPU.</summary>
public sealed class GenerationFlowTests(GenerationFlowTests.AppFixture fixture) : IClassFixture<GenerationFlowTests.AppFixture>
{
    public sealed class AppFixture : IAsyncLifetime
    {
        public GalleryAppFactory App { get; } = new();
        public ValueTask InitializeAsync() { _ = App.Server; return ValueTask.CompletedTask; }
        public ValueTask DisposeAsync() => App.DisposeAsync();
    }

    private GalleryAppFactory App => fixture.App;
    private static string NewEmail() => $"user-{Guid.NewGuid():N}@example.test";

    [Fact]
    public async Task RegisterSubmit_ProgressPreviewsArrive_ImageStoredWithMetadata_GalleryReturnsIt()
    {
        var (client, userId) = await App.RegisterAsync(NewEmail());
        var token = await App.CreateTokenAsync(userId);
        await using var hub = await HubTestClient.ConnectAsync(App, token);

        var submitted = await hub.SubmitAsync(new { prompt = "a red circle on a blue background", steps = 12, seed = 4242, sampler = "EulerAncestral", guidanceScale = 6.5 });
        var final = await hub.WaitFinishedAsync(submitted);

        Assert.Equal(JobState.Succeeded, final.State);
        var previews = hub.Updates.Where(u => u.PreviewPng is not null).Select(u => Convert.ToHexString(SHA256.HashData(u.PreviewPng!))).Distinct().Count();
        // Previews come at most every 100 ms, plus the last step's: a fast 12-step job shows a few.
        Assert.True(previews >= 2, $"expected at least 2 distinct preview frames, got {previews}");
        Assert.Contains(hub.Updates, u => u.State == JobState.Running && u.Step > 0 && u.TotalSteps == 12 && u.IterationsPerSecond > 0);
        var imageId = Assert.Single(final.ImageIds);

        await using var db = App.CreateDbContext();
        var image = await db.GeneratedImages.SingleAsync(i => i.Id == imageId);
        Assert.Equal(userId, image.OwnerId);
        Assert.Equal(4242, image.Seed);
        Assert.Equal(12, image.Settings.Steps);
        Assert.Equal(SamplerKindEulerA, image.Settings.Sampler);
        Assert.Equal("tiny-shapes", image.ModelName);
        var store = App.Services.GetRequiredService<ImageStore>();
        var png = await File.ReadAllBytesAsync(store.GetImagePath(imageId));
        Assert.True(File.Exists(store.GetThumbnailPath(imageId)));
        Assert.Equal(image.FileHash, Convert.ToHexStringLower(SHA256.HashData(png)));
        var parameters = PngChunks.ReadText(png)["parameters"];
        Assert.StartsWith("a red circle on a blue background", parameters);
        Assert.Contains("Seed: 4242", parameters);
        Assert.Contains("Steps: 12", parameters);
        Assert.Equal(image.ParametersText, parameters);

        var page = await App.Services.GetRequiredService<GalleryService>().QueryAsync(userId, new GalleryQuery(Search: "red circle"));
        Assert.Contains(page.Items, i => i.Id == imageId);
        var viaHttp = await client.GetAsync($"/images/{imageId}");
        Assert.Equal(HttpStatusCode.OK, viaHttp.StatusCode);
        Assert.Equal("image/png", viaHttp.Content.Headers.ContentType?.MediaType);
        Assert.Equal(png, await viaHttp.Content.ReadAsByteArrayAsync());
        Assert.Equal("nosniff", viaHttp.Headers.GetValues("X-Content-Type-Options").Single());
        var thumb = await client.GetAsync($"/images/{imageId}/thumb");
        Assert.Equal("image/webp", thumb.Content.Headers.ContentType?.MediaType);
    }

    private const DiffusionGallery.Inference.Abstractions.SamplerKind SamplerKindEulerA = DiffusionGallery.Inference.Abstractions.SamplerKind.EulerAncestral;

    [Fact]
    public async Task OtherUser_Gets404ForImageThumbAndJob_AndCannotSubscribeOnHub()
    {
        var (_, userA) = await App.RegisterAsync(NewEmail());
        var (clientB, userB) = await App.RegisterAsync(NewEmail());
        await using var hubA = await HubTestClient.ConnectAsync(App, await App.CreateTokenAsync(userA));
        var final = await hubA.WaitFinishedAsync(await hubA.SubmitAsync(new { prompt = "a green square", steps = 4, seed = 1 }));
        var imageId = Assert.Single(final.ImageIds);

        foreach (var path in new[] { $"/images/{imageId}", $"/images/{imageId}/thumb", $"/images/{imageId}?download=true", $"/api/images/{imageId}", $"/api/generations/{final.JobId}" })
        {
            var response = await clientB.GetAsync(path);
            Assert.True(response.StatusCode == HttpStatusCode.NotFound, $"{path}: {response.StatusCode}");
            Assert.NotEqual("image/png", response.Content.Headers.ContentType?.MediaType);
        }
        Assert.Equal(HttpStatusCode.NotFound, (await clientB.DeleteAsync($"/api/images/{imageId}")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await clientB.DeleteAsync($"/api/generations/{final.JobId}")).StatusCode);

        await using var hubB = await HubTestClient.ConnectAsync(App, await App.CreateTokenAsync(userB));
        var refused = await Assert.ThrowsAsync<HubException>(() => hubB.Connection.InvokeAsync<JobUpdate>("Subscribe", final.JobId));
        Assert.Contains("not found", refused.Message, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain(hubB.Updates, u => u.JobId == final.JobId);

        var pageB = await App.Services.GetRequiredService<GalleryService>().QueryAsync(userB, new GalleryQuery());
        Assert.Empty(pageB.Items);
        await using var db = App.CreateDbContext();
        Assert.True(await db.GeneratedImages.AnyAsync(i => i.Id == imageId)); // B's delete did nothing
    }

    [Fact]
    public async Task Cancel_MidJob_EndsCancelledWithNoImage()
    {
        var (_, userId) = await App.RegisterAsync(NewEmail());
        await using var hub = await HubTestClient.ConnectAsync(App, await App.CreateTokenAsync(userId));
        var cancelRequested = 0;
        hub.OnUpdate = update =>
        {
            if (update.State == JobState.Running && update.Step >= 2 && Interlocked.Exchange(ref cancelRequested, 1) == 0)
                _ = hub.Connection.InvokeAsync<bool>("Cancel", update.JobId);
        };

        var submitted = await hub.SubmitAsync(new { prompt = "a yellow triangle", steps = 100, seed = 5 });
        var final = await hub.WaitFinishedAsync(submitted);

        Assert.Equal(JobState.Cancelled, final.State);
        Assert.Empty(final.ImageIds);
        await using var db = App.CreateDbContext();
        var job = await db.GenerationJobs.Include(j => j.Images).SingleAsync(j => j.Id == submitted.JobId);
        Assert.Equal(JobState.Cancelled, job.State);
        Assert.Empty(job.Images);
        // The reservation is refunded in full; the charge records only the GPU time spent.
        var ledger = await db.UsageEntries.Where(u => u.JobId == submitted.JobId).ToListAsync();
        Assert.Equal(1, ledger.Single(u => u.Kind == UsageKind.Reservation).Images);
        Assert.Equal(1, ledger.Single(u => u.Kind == UsageKind.Refund).Images);
        Assert.Equal(0, ledger.Where(u => u.Kind == UsageKind.Charge).Sum(u => u.Images));
    }

    [Fact]
    public async Task InvalidSettings_RejectedByServiceOverRestAndHub_NothingQueued()
    {
        var (client, userId) = await App.RegisterAsync(NewEmail());

        var tooManySteps = await client.PostAsJsonAsync("/api/generations", new { prompt = "x", steps = 10000 });
        Assert.Equal(HttpStatusCode.BadRequest, tooManySteps.StatusCode);
        Assert.Contains("Steps must be between", await tooManySteps.Content.ReadAsStringAsync());
        var badModel = await client.PostAsJsonAsync("/api/generations", new { prompt = "x", model = "../x" });
        Assert.Equal(HttpStatusCode.BadRequest, badModel.StatusCode);
        Assert.Contains("Unknown model", await badModel.Content.ReadAsStringAsync());
        var emptyPrompt = await client.PostAsJsonAsync("/api/generations", new { prompt = "  " });
        Assert.Equal(HttpStatusCode.BadRequest, emptyPrompt.StatusCode);

        await using var hub = await HubTestClient.ConnectAsync(App, await App.CreateTokenAsync(userId));
        var hugeSize = await Assert.ThrowsAsync<HubException>(() => hub.SubmitAsync(new { prompt = "x", width = 100000 }));
        Assert.Contains("Width must be", hugeSize.Message);
        var badBatch = await Assert.ThrowsAsync<HubException>(() => hub.SubmitAsync(new { prompt = "x", batchCount = 500 }));
        Assert.Contains("Batch count", badBatch.Message);

        await using var db = App.CreateDbContext();
        Assert.False(await db.GenerationJobs.AnyAsync(j => j.OwnerId == userId));
    }

    [Fact]
    public async Task ManyUsers_RoundRobin_OneUsersBurstDoesNotBlockAnother()
    {
        var (_, heavy) = await App.RegisterAsync(NewEmail());
        var (_, light) = await App.RegisterAsync(NewEmail());
        var heavyJobs = new List<GenerationJob>();
        for (var i = 0; i < 4; i++) heavyJobs.Add(await App.SubmitAsAsync(heavy, new GenerationSettings { Prompt = "a circle", Steps = 6, Seed = i }));
        var lightJob = await App.SubmitAsAsync(light, new GenerationSettings { Prompt = "a square", Steps = 6, Seed = 9 });

        await WaitUntilAsync(async () =>
        {
            await using var db = App.CreateDbContext();
            return await db.GenerationJobs.Where(j => j.Id == lightJob.Id).Select(j => j.State).SingleAsync() == JobState.Succeeded;
        });
        // Waiting means heavy jobs finished before the light job started: heavy jobs that shared its run (same model,
        // size, sampler, steps) finish with it but did not delay it.
        await using var check = App.CreateDbContext();
        var lightStarted = await check.GenerationJobs.Where(l => l.Id == lightJob.Id).Select(l => l.StartedAt).SingleAsync();
        Assert.NotNull(lightStarted);
        var heavyFinished = await check.GenerationJobs.Where(j => j.OwnerId == heavy && j.State == JobState.Succeeded)
            .Select(j => j.FinishedAt).ToListAsync();
        var finishedHeavy = heavyFinished.Count(f => f <= lightStarted);
        Assert.True(finishedHeavy <= 2, $"the light user's job waited for {finishedHeavy} of the heavy user's jobs");
    }

    internal static async Task WaitUntilAsync(Func<Task<bool>> condition, int seconds = 60)
    {
        var deadline = DateTime.UtcNow.AddSeconds(seconds);
        while (!await condition())
        {
            if (DateTime.UtcNow > deadline) throw new TimeoutException("Condition not met in time.");
            await Task.Delay(100);
        }
    }
}
