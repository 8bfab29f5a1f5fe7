using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using DiffusionGallery.Web.Gallery;
using DiffusionGallery.Web.Generation;
using DiffusionGallery.Web.Accounts;
using DiffusionGallery.Web.Data.Entities;
using DiffusionGallery.Web.Tests.Support;
using Microsoft.AspNetCore.SignalR.Client;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace DiffusionGallery.Web.Tests.Integration;

public sealed class ApiTests(GenerationFlowTests.AppFixture fixture) : IClassFixture<GenerationFlowTests.AppFixture>
{
    private GalleryAppFactory App => fixture.App;

    [Fact]
    public async Task TokenClient_SubmitsOverRest_FollowsHub_DownloadsPngWithParameters()
    {
        var (_, userId) = await App.RegisterAsync($"api-{Guid.NewGuid():N}@example.test");
        var token = await App.CreateTokenAsync(userId);
        using var api = App.CreateTokenClient(token);
        await using var hub = await HubTestClient.ConnectAsync(App, token);

        var submit = await api.PostAsJsonAsync("/api/generations", new { prompt = "a purple star", steps = 40, seed = 77, batchCount = 2 });
        Assert.Equal(HttpStatusCode.Accepted, submit.StatusCode);
        var job = (await submit.Content.ReadFromJsonAsync<GenerationJobDto>(GalleryAppFactory.Json))!;
        Assert.Equal($"/api/generations/{job.Id}", submit.Headers.Location?.OriginalString);
        Assert.Equal(JobState.Queued, job.State);
        Assert.NotNull(job.QueuePosition); // where it was queued (1 = next), even when an idle worker took it at once
        Assert.InRange(job.QueuePosition.Value, 1, 100);
        var snapshot = await hub.Connection.InvokeAsync<DiffusionGallery.Web.Generation.JobUpdate>("Subscribe", job.Id);
        var final = await hub.WaitFinishedAsync(snapshot);
        Assert.Equal(JobState.Succeeded, final.State);

        var status = (await api.GetFromJsonAsync<GenerationJobDto>($"/api/generations/{job.Id}", GalleryAppFactory.Json))!;
        Assert.Equal(JobState.Succeeded, status.State);
        Assert.Equal(2, status.Images.Count);
        var png = await api.GetByteArrayAsync(status.Images[0].Png);
        var parameters = PngChunks.ReadText(png)["parameters"];
        Assert.StartsWith("a purple star", parameters);
        Assert.Contains("Seed: 77", parameters);

        var details = (await api.GetFromJsonAsync<ImageDto>(status.Images[1].Self, GalleryAppFactory.Json))!;
        Assert.Equal(78, details.Seed);
        var list = (await api.GetFromJsonAsync<ImagePageDto>("/api/images?page=1&pageSize=10&search=purple", GalleryAppFactory.Json))!;
        Assert.Equal(2, list.Total);
        Assert.All(list.Items, i => Assert.Contains("purple", i.Prompt));
    }

    [Fact]
    public async Task FirstSubmission_OnAnIdleServer_IsQueuedAtPositionOne()
    {
        await using var app = new GalleryAppFactory();
        var (_, userId) = await app.RegisterAsync($"first-{Guid.NewGuid():N}@example.test");
        using var api = app.CreateTokenClient(await app.CreateTokenAsync(userId));

        var submit = await api.PostAsJsonAsync("/api/generations", new { prompt = "a red circle", steps = 2, seed = 1 });

        Assert.Equal(HttpStatusCode.Accepted, submit.StatusCode);
        var json = await submit.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal("Queued", json.GetProperty("state").GetString());
        Assert.Equal(1, json.GetProperty("queuePosition").GetInt32());
    }

    [Fact]
    public async Task KarrasSigmas_AcceptedOverRest_StoredAndReturnedWithTheImage()
    {
        var (_, userId) = await App.RegisterAsync($"karras-{Guid.NewGuid():N}@example.test");
        var token = await App.CreateTokenAsync(userId);
        using var api = App.CreateTokenClient(token);
        await using var hub = await HubTestClient.ConnectAsync(App, token);

        var submit = await api.PostAsJsonAsync("/api/generations", new { prompt = "a red circle", steps = 6, seed = 31, sampler = "DpmPlusPlus2M", karrasSigmas = true });
        Assert.Equal(HttpStatusCode.Accepted, submit.StatusCode);
        var job = (await submit.Content.ReadFromJsonAsync<GenerationJobDto>(GalleryAppFactory.Json))!;
        var final = await hub.WaitFinishedAsync(await hub.Connection.InvokeAsync<DiffusionGallery.Web.Generation.JobUpdate>("Subscribe", job.Id));
        Assert.Equal(JobState.Succeeded, final.State);
        var imageId = Assert.Single(final.ImageIds);

        var details = (await api.GetFromJsonAsync<ImageDto>($"/api/images/{imageId}", GalleryAppFactory.Json))!;
        Assert.Equal((DiffusionGallery.Inference.Abstractions.SamplerKind.DpmPlusPlus2M, true), (details.Sampler, details.KarrasSigmas));
        Assert.Contains("Schedule type: Karras", details.ParametersText);
        await using var db = App.CreateDbContext();
        Assert.True((await db.GeneratedImages.SingleAsync(i => i.Id == imageId)).Settings.KarrasSigmas);
        Assert.True((await db.GenerationJobs.SingleAsync(j => j.Id == job.Id)).Settings.KarrasSigmas);

        var plain = await hub.WaitFinishedAsync(await hub.SubmitAsync(new { prompt = "a red circle", steps = 3, seed = 32, sampler = "Ddim", karrasSigmas = true }));
        var plainDetails = (await api.GetFromJsonAsync<ImageDto>($"/api/images/{Assert.Single(plain.ImageIds)}", GalleryAppFactory.Json))!;
        Assert.False(plainDetails.KarrasSigmas);
        Assert.DoesNotContain("Karras", plainDetails.ParametersText);
    }

    [Fact]
    public async Task OmittedSettings_TakeTheModelsRecommendations()
    {
        var (_, userId) = await App.RegisterAsync($"defaults-{Guid.NewGuid():N}@example.test");
        var token = await App.CreateTokenAsync(userId);
        using var api = App.CreateTokenClient(token);

        var submit = await api.PostAsJsonAsync("/api/generations", new { prompt = "a red circle", seed = 5 });
        var named = await api.PostAsJsonAsync("/api/generations", new { prompt = "a red circle", seed = 5, sampler = "Euler", steps = 3 });

        Assert.Equal(HttpStatusCode.Accepted, submit.StatusCode);
        Assert.Equal(HttpStatusCode.Accepted, named.StatusCode);
        var model = App.Services.GetRequiredService<DiffusionGallery.Inference.Abstractions.IImageGenerator>().Models[0];
        var job = (await submit.Content.ReadFromJsonAsync<GenerationJobDto>(GalleryAppFactory.Json))!;
        var namedJob = (await named.Content.ReadFromJsonAsync<GenerationJobDto>(GalleryAppFactory.Json))!;
        await using var db = App.CreateDbContext();
        var settings = (await db.GenerationJobs.SingleAsync(j => j.Id == job.Id)).Settings;
        Assert.Equal((model.RecommendedSampler, model.RecommendedKarras, model.RecommendedSteps, model.RecommendedGuidance, model.NativeWidth),
            (settings.Sampler, settings.KarrasSigmas, settings.Steps, settings.GuidanceScale, settings.Width));
        Assert.True(settings.KarrasSigmas); // the bundled model recommends DPM++ 2M Karras
        var namedSettings = (await db.GenerationJobs.SingleAsync(j => j.Id == namedJob.Id)).Settings;
        Assert.Equal((DiffusionGallery.Inference.Abstractions.SamplerKind.Euler, false, 3), (namedSettings.Sampler, namedSettings.KarrasSigmas, namedSettings.Steps));
    }

    [Fact]
    public async Task DeleteImage_ByOwner_RemovesRowAndFiles()
    {
        var (client, userId) = await App.RegisterAsync($"del-{Guid.NewGuid():N}@example.test");
        await using var hub = await HubTestClient.ConnectAsync(App, await App.CreateTokenAsync(userId));
        var final = await hub.WaitFinishedAsync(await hub.SubmitAsync(new { prompt = "a circle", steps = 3, seed = 8 }));
        var imageId = Assert.Single(final.ImageIds);
        var store = App.Services.GetRequiredService<DiffusionGallery.Web.Gallery.ImageStore>();
        Assert.True(File.Exists(store.GetImagePath(imageId)));

        Assert.Equal(HttpStatusCode.NoContent, (await client.DeleteAsync($"/api/images/{imageId}")).StatusCode);

        Assert.False(File.Exists(store.GetImagePath(imageId)));
        Assert.False(File.Exists(store.GetThumbnailPath(imageId)));
        await using var db = App.CreateDbContext();
        Assert.False(await db.GeneratedImages.AnyAsync(i => i.Id == imageId));
        Assert.Equal(HttpStatusCode.NotFound, (await client.GetAsync($"/images/{imageId}")).StatusCode);
    }

    [Fact]
    public async Task HubOverWebSockets_AcceptsTheTokenInTheQueryString()
    {
        var (_, userId) = await App.RegisterAsync($"ws-{Guid.NewGuid():N}@example.test");
        await using var connection = await App.ConnectHubAsync(await App.CreateTokenAsync(userId), Microsoft.AspNetCore.Http.Connections.HttpTransportType.WebSockets);
        var done = new TaskCompletionSource<DiffusionGallery.Web.Generation.JobUpdate>(TaskCreationOptions.RunContinuationsAsynchronously);
        connection.On<DiffusionGallery.Web.Generation.JobUpdate>("JobUpdated", u => { if (u.IsFinished) done.TrySetResult(u); });

        var submitted = await connection.InvokeAsync<DiffusionGallery.Web.Generation.JobUpdate>("Submit", new { prompt = "a circle", steps = 4, seed = 11 });
        var final = submitted.IsFinished ? submitted : await done.Task.WaitAsync(TimeSpan.FromSeconds(60));

        Assert.Equal(JobState.Succeeded, final.State);
        Assert.Single(final.ImageIds);
    }

    [Fact]
    public async Task RevokedToken_IsRefusedByApiAndHub()
    {
        var (_, userId) = await App.RegisterAsync($"revoke-{Guid.NewGuid():N}@example.test");
        var token = await App.CreateTokenAsync(userId);
        using var api = App.CreateTokenClient(token);
        Assert.Equal(HttpStatusCode.OK, (await api.GetAsync("/api/images")).StatusCode);

        var tokens = App.Services.GetRequiredService<PersonalAccessTokenService>();
        var stored = Assert.Single(await tokens.ListAsync(userId));
        Assert.NotEqual(token, stored.TokenHash); // only the hash is stored
        Assert.Equal(PersonalAccessTokenService.Hash(token), stored.TokenHash);
        Assert.True(await tokens.RevokeAsync(userId, stored.Id));

        Assert.Equal(HttpStatusCode.Unauthorized, (await api.GetAsync("/api/images")).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await api.PostAsJsonAsync("/api/generations", new { prompt = "x" })).StatusCode);
        var hubError = await Assert.ThrowsAnyAsync<HttpRequestException>(() => App.ConnectHubAsync(token));
        Assert.Equal(HttpStatusCode.Unauthorized, hubError.StatusCode);
    }

    [Fact]
    public async Task Anonymous_GetsUnauthorizedNotRedirect()
    {
        using var anonymous = App.CreateClient(new Microsoft.AspNetCore.Mvc.Testing.WebApplicationFactoryClientOptions { AllowAutoRedirect = false });
        Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.GetAsync("/api/images")).StatusCode);
        // Image files answer anonymous visitors too (Public images are for anyone): an unknown id is 404, never a redirect.
        Assert.Equal(HttpStatusCode.NotFound, (await anonymous.GetAsync($"/images/{Guid.NewGuid()}")).StatusCode);
        using var bogus = App.CreateTokenClient("dgp_not-a-real-token");
        Assert.Equal(HttpStatusCode.Unauthorized, (await bogus.GetAsync("/api/images")).StatusCode);
    }

    [Fact]
    public async Task OpenApiDocument_DescribesTheApi()
    {
        using var client = App.CreateClient();
        using var doc = JsonDocument.Parse(await client.GetStringAsync("/openapi/v1.json"));
        var paths = doc.RootElement.GetProperty("paths");
        Assert.True(paths.TryGetProperty("/api/generations", out var generations));
        Assert.True(generations.TryGetProperty("post", out _));
        Assert.True(paths.TryGetProperty("/api/generations/{id}", out var one));
        Assert.True(one.TryGetProperty("delete", out _));
        Assert.True(paths.TryGetProperty("/api/images", out _));
        Assert.True(paths.TryGetProperty("/api/images/{id}", out _));
    }
}
