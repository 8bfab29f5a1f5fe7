using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using DiffusionGallery.Web.Data.Entities;
using DiffusionGallery.Web.Generation;
using DiffusionGallery.Web.Tests.Integration;
using DiffusionGallery.Web.Tests.Support;
using DiffusionGallery.Web.Tests.Uploads;
using DiffusionGallery.Web.Uploads;
using Microsoft.AspNetCore.SignalR.Client;
using Microsoft.EntityFrameworkCore;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;

namespace DiffusionGallery.Web.Tests.Lab;

/// <summary>img2img over REST through the submission path: references, lineage, metadata, access, bad input.</summary>
public sealed class ImageGuidanceApiTests(GenerationFlowTests.AppFixture fixture) : IClassFixture<GenerationFlowTests.AppFixture>
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

    [Fact]
    public async Task FromAnUpload_ImageRecordsItsSource_ParametersCarryDenoisingStrength_UploadIsKept()
    {
        var (api, hub, userId) = await SignUpAsync("i2i-upload");
        await using var _ = hub;
        var upload = await UploadApiTests.UploadOkAsync(api, UploadCorpus.NoisePng(160, 120, 2));

        var final = await RunAsync(api, hub, new { prompt = "a red circle on a blue background", steps = 6, seed = 9, initImage = new { uploadId = upload.Id }, strength = 0.3, fit = "Pad" });

        var imageId = Assert.Single(final.ImageIds);
        await using var db = App.CreateDbContext();
        var image = await db.GeneratedImages.SingleAsync(i => i.Id == imageId);
        Assert.Equal((upload.Id, (Guid?)null, 0.3f, ReferenceImageFit.Pad), (image.Settings.InitUploadId!.Value, image.Settings.InitImageId, image.Settings.Strength!.Value, image.Settings.Fit));
        Assert.Null(image.ParentImageId);
        Assert.Contains("Denoising strength: 0.3", image.ParametersText);
        var job = await db.GenerationJobs.SingleAsync(j => j.Id == final.JobId);
        Assert.Equal("api", job.Origin);
        Assert.NotNull((await db.Set<UploadedImage>().SingleAsync(u => u.Id == upload.Id)).UsedAt); // kept past the retention period
    }

    [Fact]
    public async Task FromAGalleryImage_ItBecomesTheLineageParent()
    {
        var (api, hub, _) = await SignUpAsync("i2i-image");
        await using var _ = hub;
        var source = Assert.Single((await RunAsync(api, hub, new { prompt = "a green square", steps = 4, seed = 1 })).ImageIds);

        var final = await RunAsync(api, hub, new { prompt = "a green square", steps = 4, seed = 2, initImage = new { imageId = source }, strength = 0.5 });

        await using var db = App.CreateDbContext();
        var image = await db.GeneratedImages.SingleAsync(i => i.Id == final.ImageIds[0]);
        Assert.Equal(source, image.ParentImageId);
        Assert.Equal(source, image.Settings.InitImageId);
    }

    [Fact]
    public async Task StrengthOne_GivesTheSameImageAsTextToImageWithTheSameSeed()
    {
        var (api, hub, _) = await SignUpAsync("i2i-one");
        await using var _ = hub;
        var upload = await UploadApiTests.UploadOkAsync(api, UploadCorpus.NoisePng(128, 128, 6));

        var fromImage = await RunAsync(api, hub, new { prompt = "a blue star", steps = 5, seed = 123, initImage = new { uploadId = upload.Id }, strength = 1.0 });
        var fromText = await RunAsync(api, hub, new { prompt = "a blue star", steps = 5, seed = 123 });

        using var a = Image.Load<Rgb24>(await api.GetByteArrayAsync($"/images/{fromImage.ImageIds[0]}"));
        using var b = Image.Load<Rgb24>(await api.GetByteArrayAsync($"/images/{fromText.ImageIds[0]}"));
        Assert.Equal(double.PositiveInfinity, Web.Lab.ImageSimilarity.Psnr(a, b));
    }

    [Fact]
    public async Task AReferenceTheUserMayNotSee_IsRefused_AndNoJobIsStored()
    {
        var (owner, ownerHub, _) = await SignUpAsync("i2i-owner");
        await using var _ = ownerHub;
        var (other, otherHub, otherId) = await SignUpAsync("i2i-other");
        await using var __ = otherHub;
        var upload = await UploadApiTests.UploadOkAsync(owner, UploadCorpus.NoisePng(64, 64, 3));
        var image = Assert.Single((await RunAsync(owner, ownerHub, new { prompt = "a red circle", steps = 3, seed = 5 })).ImageIds);

        foreach (var reference in new object[] { new { uploadId = upload.Id }, new { imageId = image }, new { imageId = Guid.NewGuid() } })
        {
            var response = await other.PostAsJsonAsync("/api/generations", new { prompt = "x", steps = 3, initImage = reference, strength = 0.5 });
            await UploadApiTests.AssertProblemAsync(response, HttpStatusCode.BadRequest, "that you may use as a reference");
            using var problem = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
            Assert.True(problem.RootElement.GetProperty("errors").TryGetProperty("initImage", out var _));
        }
        await using var db = App.CreateDbContext();
        Assert.False(await db.GenerationJobs.AnyAsync(j => j.OwnerId == otherId));
    }

    [Fact]
    public async Task BadStrengthOrReference_GetsProblemJsonNamingTheField()
    {
        var (api, hub, _) = await SignUpAsync("i2i-bad");
        await using var _ = hub;
        var upload = await UploadApiTests.UploadOkAsync(api, UploadCorpus.NoisePng(64, 64, 4));
        var cases = new (object Body, string Field, string Message)[]
        {
            (new { prompt = "x", initImage = new { uploadId = upload.Id }, strength = 1.5 }, "strength", "between 0"),
            (new { prompt = "x", initImage = new { uploadId = upload.Id } }, "strength", "needs a strength"),
            (new { prompt = "x", strength = 0.4 }, "strength", "only used with a reference"),
            (new { prompt = "x", initImage = new { uploadId = upload.Id, imageId = Guid.NewGuid() }, strength = 0.4 }, "initImage", "exactly one"),
        };
        foreach (var (body, field, message) in cases)
        {
            var response = await api.PostAsJsonAsync("/api/generations", body);
            await UploadApiTests.AssertProblemAsync(response, HttpStatusCode.BadRequest, message);
            using var problem = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
            Assert.True(problem.RootElement.GetProperty("errors").TryGetProperty(field, out var _), $"errors.{field} missing for {JsonSerializer.Serialize(body)}");
        }
    }
}
