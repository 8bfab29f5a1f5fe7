using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using DiffusionGallery.Web.Data.Entities;
using DiffusionGallery.Web.Sharing;
using DiffusionGallery.Web.Tests.Integration;
using Microsoft.Extensions.DependencyInjection;

namespace DiffusionGallery.Web.Tests.Sharing;

/// <summary>Who may call the owner endpoints, what bad input gets, links that die at once, likes and Explore's sorts.</summary>
public sealed class SharingApiTests(SharingAppFixture fixture) : IClassFixture<SharingAppFixture>
{
    private GalleryAppFactory App => fixture.App;
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Patch_OwnerOnly_OtherGets404_AnonymousGets401_ShareUrlFollowsVisibility()
    {
        var (owner, ownerId) = await App.RegisterAsync($"p-{Guid.NewGuid():N}@example.test");
        var (other, _) = await App.RegisterAsync($"p2-{Guid.NewGuid():N}@example.test");
        using var anonymous = fixture.Anonymous();
        var image = await fixture.AddImageAsync(ownerId, "a teal hexagon");

        Assert.Equal(HttpStatusCode.NotFound, (await other.PatchAsJsonAsync($"/api/images/{image.Id}", new { visibility = "Public" }, Ct)).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.PatchAsJsonAsync($"/api/images/{image.Id}", new { visibility = "Public" }, Ct)).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await other.PostAsync($"/api/images/{image.Id}/share-link", null, Ct)).StatusCode);

        var unlisted = await (await owner.PatchAsJsonAsync($"/api/images/{image.Id}", new { visibility = "Unlisted", hidePrompt = true }, Ct)).Content.ReadFromJsonAsync<JsonElement>(Ct);
        Assert.Equal("Unlisted", unlisted.GetProperty("visibility").GetString());
        Assert.True(unlisted.GetProperty("hidePrompt").GetBoolean());
        Assert.True(unlisted.GetProperty("allowRemix").GetBoolean());
        var link = unlisted.GetProperty("shareUrl").GetString()!;
        Assert.Matches("^/s/[A-Za-z0-9_-]{32}$", link);
        Assert.Equal(HttpStatusCode.OK, (await anonymous.GetAsync(link, Ct)).StatusCode);

        // "New link": the old one is dead at once.
        var renewed = await (await owner.PostAsync($"/api/images/{image.Id}/share-link", null, Ct)).Content.ReadFromJsonAsync<JsonElement>(Ct);
        var newLink = renewed.GetProperty("shareUrl").GetString()!;
        Assert.NotEqual(link, newLink);
        Assert.Equal(HttpStatusCode.NotFound, (await anonymous.GetAsync(link, Ct)).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await anonymous.GetAsync($"{link}/image", Ct)).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await anonymous.GetAsync($"{newLink}/image", Ct)).StatusCode);

        // Private kills the link; making it shared again gives a fresh one, never the old one back.
        var made = await (await owner.PatchAsJsonAsync($"/api/images/{image.Id}", new { visibility = "Private" }, Ct)).Content.ReadFromJsonAsync<JsonElement>(Ct);
        Assert.Equal(JsonValueKind.Null, made.GetProperty("shareUrl").ValueKind);
        Assert.Equal(HttpStatusCode.NotFound, (await anonymous.GetAsync(newLink, Ct)).StatusCode);
        var again = await (await owner.PatchAsJsonAsync($"/api/images/{image.Id}", new { visibility = "Public" }, Ct)).Content.ReadFromJsonAsync<JsonElement>(Ct);
        Assert.NotEqual(newLink, again.GetProperty("shareUrl").GetString());
        Assert.NotEqual(link, again.GetProperty("shareUrl").GetString());
    }

    [Fact]
    public async Task BadInput_GetsProblemJsonWithAClearMessage_AndChangesNothing()
    {
        var (owner, ownerId) = await App.RegisterAsync($"bad-{Guid.NewGuid():N}@example.test");
        var (_, otherId) = await App.RegisterAsync($"bad2-{Guid.NewGuid():N}@example.test");
        var image = await fixture.AddImageAsync(ownerId, "a pink moon");
        var theirs = await fixture.AddImageAsync(otherId, "their moon");
        using var anonymous = fixture.Anonymous();

        await AssertProblemAsync(await owner.PatchAsJsonAsync($"/api/images/{image.Id}", new { visibility = "Everyone" }, Ct), 400, "visibility", "Private, Unlisted or Public");
        await AssertProblemAsync(await owner.PatchAsJsonAsync($"/api/images/{image.Id}", new { visibility = "7" }, Ct), 400, "visibility", "Private, Unlisted or Public");
        var privateLink = await owner.PostAsync($"/api/images/{image.Id}/share-link", null, Ct);
        await AssertProblemAsync(privateLink, 400, "visibility", "Private image has no link");

        await AssertProblemAsync(await anonymous.GetAsync("/api/explore?sort=loudest", Ct), 400, "sort", "newest, likes or remixes");
        await AssertProblemAsync(await anonymous.GetAsync("/api/explore?period=year", Ct), 400, "period", "week or all");
        await AssertProblemAsync(await anonymous.GetAsync($"/api/explore?search={new string('a', 201)}", Ct), 400, "search", "200 characters");

        await AssertProblemAsync(await owner.PostAsJsonAsync("/api/collections", new { name = "  ", description = "" }, Ct), 400, "name", "needs a name");
        var created = await (await owner.PostAsJsonAsync("/api/collections", new { name = "Mine", description = "" }, Ct)).Content.ReadFromJsonAsync<JsonElement>(Ct);
        var collectionId = created.GetProperty("id").GetGuid();
        await AssertProblemAsync(await owner.PutAsJsonAsync($"/api/collections/{collectionId}/images", new { imageIds = new[] { image.Id, theirs.Id } }, Ct), 400, "imageIds", "Only your own images");
        await AssertProblemAsync(await owner.PutAsJsonAsync($"/api/collections/{collectionId}/images", new { imageIds = new[] { image.Id, image.Id } }, Ct), 400, "imageIds", "only once");
        await AssertProblemAsync(await owner.PatchAsJsonAsync($"/api/collections/{collectionId}", new { coverImageId = theirs.Id }, Ct), 400, "coverImageId", "one of the collection's images");
        var after = await owner.GetFromJsonAsync<JsonElement>($"/api/collections/{collectionId}", Ct);
        Assert.Equal(0, after.GetProperty("imageCount").GetInt32()); // nothing half-applied

        var (other, _) = await App.RegisterAsync($"bad3-{Guid.NewGuid():N}@example.test");
        Assert.Equal(HttpStatusCode.NotFound, (await other.PutAsJsonAsync($"/api/collections/{collectionId}/images", new { imageIds = Array.Empty<Guid>() }, Ct)).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await other.PatchAsJsonAsync($"/api/collections/{collectionId}", new { visibility = "Public" }, Ct)).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.PostAsJsonAsync("/api/collections", new { name = "x" }, Ct)).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await anonymous.GetAsync("/s/not-a-token", Ct)).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await anonymous.GetAsync("/api/users/nobody-here-xyz/images", Ct)).StatusCode);
    }

    [Fact]
    public async Task Likes_OnePerUser_Toggle_CountAndLikedTab()
    {
        var (_, ownerId) = await App.RegisterAsync($"l-{Guid.NewGuid():N}@example.test");
        var (fan, _) = await App.RegisterAsync($"l2-{Guid.NewGuid():N}@example.test");
        var (fan2, _) = await App.RegisterAsync($"l3-{Guid.NewGuid():N}@example.test");
        var image = await fixture.AddImageAsync(ownerId, "a liked kite", ImageVisibility.Public);

        var first = await (await fan.PutAsync($"/api/images/{image.Id}/like", null, Ct)).Content.ReadFromJsonAsync<JsonElement>(Ct);
        var twice = await (await fan.PutAsync($"/api/images/{image.Id}/like", null, Ct)).Content.ReadFromJsonAsync<JsonElement>(Ct);
        var second = await (await fan2.PutAsync($"/api/images/{image.Id}/like", null, Ct)).Content.ReadFromJsonAsync<JsonElement>(Ct);
        Assert.Equal((true, 1), (first.GetProperty("liked").GetBoolean(), first.GetProperty("likes").GetInt32()));
        Assert.Equal(1, twice.GetProperty("likes").GetInt32());
        Assert.Equal(2, second.GetProperty("likes").GetInt32());
        var liked = await fan.GetFromJsonAsync<JsonElement>("/api/me/liked", Ct);
        Assert.Contains(liked.GetProperty("items").EnumerateArray(), i => i.GetProperty("id").GetGuid() == image.Id && i.GetProperty("likedByMe").GetBoolean());
        var unliked = await (await fan.DeleteAsync($"/api/images/{image.Id}/like", Ct)).Content.ReadFromJsonAsync<JsonElement>(Ct);
        Assert.Equal((false, 1), (unliked.GetProperty("liked").GetBoolean(), unliked.GetProperty("likes").GetInt32()));
        var likedAfter = await fan.GetFromJsonAsync<JsonElement>("/api/me/liked", Ct);
        Assert.DoesNotContain(likedAfter.GetProperty("items").EnumerateArray(), i => i.GetProperty("id").GetGuid() == image.Id);
    }

    [Fact]
    public async Task Explore_SortsByLikesAndRemixes_FiltersByPeriodAndModel_ShowsHandlesNotEmails()
    {
        var (_, ownerId) = await App.RegisterAsync($"e-{Guid.NewGuid():N}@example.test");
        var (fan, _) = await App.RegisterAsync($"e2-{Guid.NewGuid():N}@example.test");
        var word = $"x{Guid.NewGuid():N}"[..12];
        var plain = await fixture.AddImageAsync(ownerId, $"{word} plain", ImageVisibility.Public);
        var liked = await fixture.AddImageAsync(ownerId, $"{word} liked", ImageVisibility.Public);
        var remixed = await fixture.AddImageAsync(ownerId, $"{word} remixed", ImageVisibility.Public);
        await fixture.AddImageAsync(ownerId, "child one", ImageVisibility.Private, parent: remixed.Id);
        await fixture.AddImageAsync(ownerId, "child two", ImageVisibility.Private, parent: remixed.Id);
        await fan.PutAsync($"/api/images/{liked.Id}/like", null, Ct);
        await App.Services.GetRequiredService<RemixCounts>().RefreshAsync(Ct); // the background refresh, now
        using var anonymous = fixture.Anonymous();

        async Task<List<Guid>> IdsAsync(string query) =>
            (await anonymous.GetFromJsonAsync<JsonElement>($"/api/explore?search={word}&{query}", Ct)).GetProperty("items").EnumerateArray().Select(i => i.GetProperty("id").GetGuid()).ToList();

        Assert.Equal([remixed.Id, liked.Id, plain.Id], await IdsAsync("sort=newest"));
        Assert.Equal(liked.Id, (await IdsAsync("sort=likes&period=week"))[0]);
        Assert.Equal(remixed.Id, (await IdsAsync("sort=remixes"))[0]);
        Assert.Empty(await IdsAsync("model=another-model"));
        Assert.Equal(3, (await IdsAsync("model=tiny-shapes")).Count);
        var page = await anonymous.GetFromJsonAsync<JsonElement>($"/api/explore?search={word}&pageSize=2&page=2", Ct);
        Assert.Equal(3, page.GetProperty("total").GetInt32());
        Assert.Single(page.GetProperty("items").EnumerateArray());
        var first = (await anonymous.GetFromJsonAsync<JsonElement>($"/api/explore?search={word}&sort=remixes", Ct)).GetProperty("items")[0];
        Assert.Equal(2, first.GetProperty("remixes").GetInt32());
        Assert.False(string.IsNullOrEmpty(first.GetProperty("creator").GetProperty("handle").GetString()));
        Assert.DoesNotContain("@example.test", await anonymous.GetStringAsync($"/api/explore?search={word}", Ct));
    }

    private static async Task AssertProblemAsync(HttpResponseMessage response, int status, string field, string messagePart)
    {
        Assert.Equal(status, (int)response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var problem = await response.Content.ReadFromJsonAsync<JsonElement>();
        var messages = problem.GetProperty("errors").GetProperty(field).EnumerateArray().Select(m => m.GetString()!).ToList();
        Assert.Contains(messages, m => m.Contains(messagePart, StringComparison.Ordinal));
    }
}
