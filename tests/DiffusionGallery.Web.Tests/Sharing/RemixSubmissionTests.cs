using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using DiffusionGallery.Web.Data.Entities;
using DiffusionGallery.Web.Sharing;
using DiffusionGallery.Web.Tests.Integration;
using Microsoft.AspNetCore.SignalR;
using Microsoft.AspNetCore.SignalR.Client;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace DiffusionGallery.Web.Tests.Sharing;

/// <summary>Remix through the one way in: POST /api/generations with parentImageId (and the hub's Submit), checked by ImageAccess; real model on the CPU.</summary>
public sealed class RemixSubmissionTests(SharingAppFixture fixture) : IClassFixture<SharingAppFixture>
{
    private GalleryAppFactory App => fixture.App;
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task RemixOfAPublicImage_RecordsTheParent_LineageShowsIt_PrivateIs404_ForbiddenIs403()
    {
        var (_, aliceId) = await App.RegisterAsync($"ra-{Guid.NewGuid():N}@example.test");
        var (bob, bobId) = await App.RegisterAsync($"rb-{Guid.NewGuid():N}@example.test");
        var parent = await fixture.AddImageAsync(aliceId, "a red circle", ImageVisibility.Public);
        var hidden = await fixture.AddImageAsync(aliceId, "a private red circle");
        var noRemix = await fixture.AddImageAsync(aliceId, "a guarded red circle", ImageVisibility.Public, allowRemix: false);
        var unlisted = await fixture.AddImageAsync(aliceId, "an unlisted red circle", ImageVisibility.Unlisted);

        var prefill = await bob.GetFromJsonAsync<JsonElement>($"/api/images/{parent.Id}/remix", Ct);
        Assert.Equal("a red circle", prefill.GetProperty("prompt").GetString());
        Assert.True(prefill.GetProperty("recordsParent").GetBoolean());

        var submitted = await bob.PostAsJsonAsync("/api/generations", new { prompt = "a red circle on a green background", steps = 3, seed = 9, parentImageId = parent.Id }, Ct);
        Assert.Equal(HttpStatusCode.Accepted, submitted.StatusCode);
        var jobId = (await submitted.Content.ReadFromJsonAsync<JsonElement>(Ct)).GetProperty("id").GetGuid();
        foreach (var (id, status) in new[] { (hidden.Id, 404), (unlisted.Id, 404), (noRemix.Id, 403), (Guid.NewGuid(), 404) })
        {
            var refused = await bob.PostAsJsonAsync("/api/generations", new { prompt = "x", steps = 3, parentImageId = id }, Ct);
            Assert.Equal(status, (int)refused.StatusCode);
            Assert.Equal("application/problem+json", refused.Content.Headers.ContentType?.MediaType);
        }
        await using (var hub = await HubTestClient.ConnectAsync(App, await App.CreateTokenAsync(bobId)))
        {
            await Assert.ThrowsAsync<HubException>(() => hub.Connection.InvokeAsync<DiffusionGallery.Web.Generation.JobUpdate>("Submit", new { prompt = "x", steps = 3, parentImageId = hidden.Id }, Ct));
        }

        var child = await WaitForImageAsync(jobId);
        Assert.Equal(parent.Id, child.ParentImageId);
        var lineage = await bob.GetFromJsonAsync<JsonElement>($"/api/images/{child.Id}/lineage", Ct);
        var ancestor = Assert.Single(lineage.GetProperty("ancestors").EnumerateArray());
        Assert.Equal(parent.Id, ancestor.GetProperty("id").GetGuid());
        Assert.Contains("prompt + on a green background", lineage.GetProperty("self").GetProperty("diff").EnumerateArray().Select(d => d.GetString()));
        await App.Services.GetRequiredService<RemixCounts>().RefreshAsync(Ct);
        var seenByAnyone = await fixture.Anonymous().GetFromJsonAsync<JsonElement>($"/api/images/{parent.Id}/lineage", Ct);
        Assert.Empty(seenByAnyone.GetProperty("descendants").EnumerateArray()); // Bob's remix is Private (his default)
    }

    [Fact]
    public async Task DefaultVisibilityPublic_NewImagesArePublicWithALink()
    {
        var (carol, carolId) = await App.RegisterAsync($"rc-{Guid.NewGuid():N}@example.test");
        await App.Services.GetRequiredService<UserProfiles>().UpdateAsync(carolId, null, "Carol", ImageVisibility.Public, Ct);

        var submitted = await carol.PostAsJsonAsync("/api/generations", new { prompt = "a white heart", steps = 3, seed = 4 }, Ct);
        var image = await WaitForImageAsync((await submitted.Content.ReadFromJsonAsync<JsonElement>(Ct)).GetProperty("id").GetGuid());

        Assert.Equal(ImageVisibility.Public, image.Visibility);
        Assert.True(ShareTokens.IsWellFormed(image.ShareToken));
        var shared = await fixture.Anonymous().GetFromJsonAsync<JsonElement>($"/api/shared/images/{image.ShareToken}", Ct);
        Assert.Equal("Carol", shared.GetProperty("creator").GetProperty("displayName").GetString());
    }

    private async Task<GeneratedImage> WaitForImageAsync(Guid jobId)
    {
        var deadline = DateTime.UtcNow.AddMinutes(2);
        while (DateTime.UtcNow < deadline)
        {
            await using var db = App.CreateDbContext();
            if (await db.GeneratedImages.AsNoTracking().FirstOrDefaultAsync(i => i.JobId == jobId, Ct) is { } image) return image;
            await Task.Delay(100, Ct);
        }
        throw new TimeoutException($"job {jobId} made no image");
    }
}
