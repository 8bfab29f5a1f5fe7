using System.Net;
using System.Net.Http.Json;
using DiffusionGallery.Web.Data.Entities;
using DiffusionGallery.Web.Generation;
using DiffusionGallery.Web.Tests.Integration;
using DiffusionGallery.Web.Tests.Support;
using DiffusionGallery.Web.Tests.Uploads;
using DiffusionGallery.Web.Uploads;
using Microsoft.AspNetCore.SignalR.Client;
using Microsoft.EntityFrameworkCore;

namespace DiffusionGallery.Web.Tests.Lab;

/// <summary>
/// Which images may be a reference (img2img over REST, the Lab's forward view): what Sharing lets the user see by id —
/// their own, another's Public one — and nothing else; a gallery reference is a remix, so its creator's choice holds.
/// </summary>
public sealed class ReferenceAccessTests(GenerationFlowTests.AppFixture fixture) : IClassFixture<GenerationFlowTests.AppFixture>
{
    private GalleryAppFactory App => fixture.App;

    private async Task<(HttpClient Api, HubTestClient Hub, string UserId)> SignUpAsync(string prefix)
    {
        var (_, userId) = await App.RegisterAsync($"{prefix}-{Guid.NewGuid():N}@example.test");
        var token = await App.CreateTokenAsync(userId);
        return (App.CreateTokenClient(token), await HubTestClient.ConnectAsync(App, token), userId);
    }

    private static async Task<JobUpdate> RunAsync(HttpClient api, HubTestClient hub, object body)
    {
        var response = await api.PostAsJsonAsync("/api/generations", body);
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        var job = (await response.Content.ReadFromJsonAsync<GenerationJobDto>(GalleryAppFactory.Json))!;
        var final = await hub.WaitFinishedAsync(await hub.Connection.InvokeAsync<JobUpdate>("Subscribe", job.Id));
        Assert.Equal(JobState.Succeeded, final.State);
        return final;
    }

    private async Task ShareAsync(Guid imageId, ImageVisibility visibility, bool allowRemix = true, bool takenDown = false)
    {
        await using var db = App.CreateDbContext();
        var token = visibility == ImageVisibility.Private ? null : Web.Sharing.ShareTokens.New();
        DateTimeOffset? takenDownAt = takenDown ? DateTimeOffset.UtcNow : null;
        Assert.Equal(1, await db.GeneratedImages.Where(i => i.Id == imageId).ExecuteUpdateAsync(u => u
            .SetProperty(i => i.Visibility, visibility).SetProperty(i => i.ShareToken, token)
            .SetProperty(i => i.AllowRemix, allowRemix).SetProperty(i => i.TakenDownAt, takenDownAt)));
    }

    private static object Img2Img(Guid imageId, int seed = 3) => new { prompt = "a green square", steps = 3, seed, initImage = new { imageId }, strength = 0.5 };

    [Fact]
    public async Task OwnImage_AndAnothersPublicImage_AreReferences_AndBecomeTheParent()
    {
        var (owner, ownerHub, _) = await SignUpAsync("ref-owner");
        await using var _ = ownerHub;
        var (viewer, viewerHub, viewerId) = await SignUpAsync("ref-viewer");
        await using var __ = viewerHub;
        var source = Assert.Single((await RunAsync(owner, ownerHub, new { prompt = "a green square", steps = 3, seed = 1 })).ImageIds);

        var fromOwn = Assert.Single((await RunAsync(owner, ownerHub, Img2Img(source))).ImageIds); // still Private: the owner's own
        await ShareAsync(source, ImageVisibility.Public);
        var fromPublic = Assert.Single((await RunAsync(viewer, viewerHub, Img2Img(source, 4))).ImageIds);
        var forward = await viewer.PostAsJsonAsync("/api/lab/forward", new { source = new { imageId = source }, timesteps = new[] { 100 } });

        Assert.Equal(HttpStatusCode.OK, forward.StatusCode);
        await using var db = App.CreateDbContext();
        var made = await db.GeneratedImages.Where(i => i.Id == fromOwn || i.Id == fromPublic).ToDictionaryAsync(i => i.Id);
        Assert.Equal((source, source), (made[fromOwn].ParentImageId!.Value, made[fromOwn].Settings.InitImageId!.Value));
        Assert.Equal((source, source, viewerId), (made[fromPublic].ParentImageId!.Value, made[fromPublic].Settings.InitImageId!.Value, made[fromPublic].OwnerId));
    }

    [Fact]
    public async Task AnothersPublicImageThatForbidsRemix_Is403_WithTheReason_ButItsOwnerMayStillUseIt()
    {
        var (owner, ownerHub, _) = await SignUpAsync("ref-noremix");
        await using var _ = ownerHub;
        var (viewer, viewerHub, viewerId) = await SignUpAsync("ref-noremix-viewer");
        await using var __ = viewerHub;
        var source = Assert.Single((await RunAsync(owner, ownerHub, new { prompt = "a green square", steps = 3, seed = 1 })).ImageIds);
        await ShareAsync(source, ImageVisibility.Public, allowRemix: false);

        await UploadApiTests.AssertProblemAsync(await viewer.PostAsJsonAsync("/api/generations", Img2Img(source)),
            HttpStatusCode.Forbidden, "creator does not allow remixing this image");
        await RunAsync(owner, ownerHub, Img2Img(source));

        await using var db = App.CreateDbContext();
        Assert.False(await db.GenerationJobs.AnyAsync(j => j.OwnerId == viewerId));
    }

    [Fact]
    public async Task AnothersPrivate_UnlistedById_TakenDown_OrUpload_IsRefused_AndNoJobIsStored()
    {
        var (owner, ownerHub, _) = await SignUpAsync("ref-hidden");
        await using var _ = ownerHub;
        var (viewer, viewerHub, viewerId) = await SignUpAsync("ref-hidden-viewer");
        await using var __ = viewerHub;
        var ids = (await RunAsync(owner, ownerHub, new { prompt = "a red circle", steps = 3, seed = 5, batchCount = 3 })).ImageIds;
        Assert.Equal(3, ids.Count);
        var (privateImage, unlisted, takenDown) = (ids[0], ids[1], ids[2]);
        await ShareAsync(unlisted, ImageVisibility.Unlisted);
        await ShareAsync(takenDown, ImageVisibility.Public, takenDown: true);
        var upload = await UploadApiTests.UploadOkAsync(owner, UploadCorpus.NoisePng(64, 64, 3));

        foreach (var image in new[] { privateImage, unlisted, takenDown })
        {
            await UploadApiTests.AssertProblemAsync(await viewer.PostAsJsonAsync("/api/generations", Img2Img(image)),
                HttpStatusCode.BadRequest, "that you may use as a reference");
            await UploadApiTests.AssertProblemAsync(await viewer.PostAsJsonAsync("/api/lab/forward", new { source = new { imageId = image }, timesteps = new[] { 10 } }),
                HttpStatusCode.NotFound, "image");
        }
        await UploadApiTests.AssertProblemAsync(await viewer.PostAsJsonAsync("/api/generations", new { prompt = "x", steps = 3, initImage = new { uploadId = upload.Id }, strength = 0.5 }),
            HttpStatusCode.BadRequest, "that you may use as a reference");
        Assert.Equal(HttpStatusCode.NotFound, (await viewer.GetAsync($"/api/uploads/{upload.Id}")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await viewer.DeleteAsync($"/api/uploads/{upload.Id}")).StatusCode);

        await using var db = App.CreateDbContext();
        Assert.False(await db.GenerationJobs.AnyAsync(j => j.OwnerId == viewerId));
        Assert.True(await db.Set<UploadedImage>().AnyAsync(u => u.Id == upload.Id));
    }
}
