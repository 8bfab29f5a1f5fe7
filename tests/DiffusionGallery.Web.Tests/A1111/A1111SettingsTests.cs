// Whole HTTP round trips bounded by their own timeouts, as the Integration folder's tests (see .editorconfig).
#pragma warning disable xUnit1051
using System.Net;
using System.Text.Json;
using DiffusionGallery.Web.Data.Entities;
using DiffusionGallery.Web.Tests.Integration;
using Microsoft.EntityFrameworkCore;

namespace DiffusionGallery.Web.Tests.A1111;

/// <summary>The Api section: the wait limit of synchronous calls, and switching the A1111 API off.</summary>
public sealed class A1111SettingsTests
{
    [Fact]
    public async Task WaitLimit_AnswersWithTheJobId_AndTheJobGoesOnIntoTheGallery()
    {
        await using var app = new GalleryAppFactory();
        app.Settings["Api:A1111WaitSeconds"] = "1";
        var user = await A1111User.CreateAsync(app);

        var (response, body) = await user.PostAsync("/sdapi/v1/txt2img", new { prompt = "a green triangle", steps = 100, width = 256, height = 256, batch_size = 2, seed = 3 });

        Assert.Equal(HttpStatusCode.GatewayTimeout, response.StatusCode);
        await using var db = app.CreateDbContext();
        var job = await db.GenerationJobs.SingleAsync(j => j.OwnerId == user.UserId);
        Assert.Contains(job.Id.ToString(), body.GetProperty("detail").GetString());
        Assert.Contains("gallery", body.GetProperty("detail").GetString());
        var deadline = DateTime.UtcNow.AddMinutes(3);
        while (DateTime.UtcNow < deadline)
        {
            await using var poll = app.CreateDbContext();
            if ((await poll.GenerationJobs.SingleAsync(j => j.Id == job.Id)).State == JobState.Succeeded) break;
            await Task.Delay(200);
        }
        await using var after = app.CreateDbContext();
        Assert.Equal(2, await after.GeneratedImages.CountAsync(i => i.JobId == job.Id && i.OwnerId == user.UserId));
    }

    [Fact]
    public async Task A1111CompatibleFalse_RemovesTheApi()
    {
        await using var app = new GalleryAppFactory();
        app.Settings["Api:A1111Compatible"] = "false";
        var user = await A1111User.CreateAsync(app);
        Assert.Equal(HttpStatusCode.NotFound, (await user.Client.GetAsync("/sdapi/v1/samplers")).StatusCode);
        // POST finds only the UI's GET-only catch-all route: 405, and nothing is queued.
        var post = await user.Client.PostAsync("/sdapi/v1/txt2img", new StringContent("""{"prompt":"x","steps":1}""", System.Text.Encoding.UTF8, "application/json"));
        Assert.Contains(post.StatusCode, new[] { HttpStatusCode.NotFound, HttpStatusCode.MethodNotAllowed });
        await using var db = app.CreateDbContext();
        Assert.Equal(0, await db.GenerationJobs.CountAsync());
    }
}
