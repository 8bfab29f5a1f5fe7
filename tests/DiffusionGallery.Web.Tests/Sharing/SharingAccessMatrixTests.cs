using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using DiffusionGallery.Web.Data.Entities;
using DiffusionGallery.Web.Sharing;
using DiffusionGallery.Web.Tests.Integration;
using DiffusionGallery.Web.Tests.Support;
using Microsoft.Extensions.DependencyInjection;

namespace DiffusionGallery.Web.Tests.Sharing;

/// <summary>
/// Every sharing surface (view page, image file, thumbnail, share page and its files, collection page and its files, remix
/// prefill, lineage, like) × owner / other user / anonymous × Private, Unlisted, Public, hidden prompt, remix forbidden
/// and revoked link, through the real endpoints. All go through ImageAccess; a mismatch anywhere is listed.
/// </summary>
public sealed class SharingAccessMatrixTests(SharingAppFixture fixture) : IClassFixture<SharingAppFixture>
{
    private GalleryAppFactory App => fixture.App;

    private enum Case { Private, Unlisted, Public, HiddenPrompt, RemixForbidden, RevokedLink }

    private enum Who { Owner, Other, Anonymous }

    private const int Ok = 200, NotFound = 404, Forbidden = 403, Unauthorized = 401;

    /// <summary>Expected status per surface. Share routes of the revoked case use the old token; collection routes use the collection's link.</summary>
    private static int Expected(string surface, Case c, Who who)
    {
        var owner = who == Who.Owner;
        var publicById = c is Case.Public or Case.HiddenPrompt or Case.RemixForbidden;
        return surface switch
        {
            "view" or "file" or "thumb" or "lineage" => owner || publicById ? Ok : NotFound,
            "share" or "share-file" or "share-thumb" => c is Case.Private or Case.RevokedLink ? NotFound : Ok,
            // The collection is Unlisted and holds all six images: its link shows every one of them (files included).
            "collection-file" or "collection-thumb" => Ok,
            "remix" => !(owner || publicById) ? NotFound : c == Case.RemixForbidden && !owner ? Forbidden : Ok,
            "like" => who == Who.Anonymous ? Unauthorized : owner || publicById ? Ok : NotFound,
            _ => throw new ArgumentOutOfRangeException(nameof(surface)),
        };
    }

    [Fact]
    public async Task EverySurface_EveryViewer_EveryCase_AnswersAsImageAccessSays()
    {
        var (ownerClient, ownerId) = await App.RegisterAsync($"owner-{Guid.NewGuid():N}@example.test");
        var (otherClient, _) = await App.RegisterAsync($"other-{Guid.NewGuid():N}@example.test");
        using var anonymous = fixture.Anonymous();
        var word = $"w{Guid.NewGuid():N}"[..12];
        var images = new Dictionary<Case, GeneratedImage>
        {
            [Case.Private] = await fixture.AddImageAsync(ownerId, $"private {word} cat"),
            [Case.Unlisted] = await fixture.AddImageAsync(ownerId, $"unlisted {word} cat", ImageVisibility.Unlisted),
            [Case.Public] = await fixture.AddImageAsync(ownerId, $"public {word} cat", ImageVisibility.Public),
            [Case.HiddenPrompt] = await fixture.AddImageAsync(ownerId, $"secretprompt {word} cat", ImageVisibility.Public, hidePrompt: true),
            [Case.RemixForbidden] = await fixture.AddImageAsync(ownerId, $"noremix {word} cat", ImageVisibility.Public, allowRemix: false),
            [Case.RevokedLink] = await fixture.AddImageAsync(ownerId, $"revoked {word} cat", ImageVisibility.Unlisted),
        };
        var oldToken = images[Case.RevokedLink].ShareToken!;
        var rotated = await ownerClient.PostAsync($"/api/images/{images[Case.RevokedLink].Id}/share-link", null, TestContext.Current.CancellationToken);
        Assert.Equal(HttpStatusCode.OK, rotated.StatusCode);
        var newShareUrl = (await rotated.Content.ReadFromJsonAsync<JsonElement>(TestContext.Current.CancellationToken)).GetProperty("shareUrl").GetString()!;
        Assert.NotEqual($"/s/{oldToken}", newShareUrl);

        var collectionToken = await CreateSharedCollectionAsync(ownerClient, images.Values.Select(i => i.Id));
        var clients = new Dictionary<Who, HttpClient> { [Who.Owner] = ownerClient, [Who.Other] = otherClient, [Who.Anonymous] = anonymous };

        var mismatches = new List<string>();
        foreach (var (c, image) in images)
        {
            var token = c == Case.RevokedLink ? oldToken : image.ShareToken ?? ShareTokens.New();
            var requests = new (string Surface, HttpMethod Method, string Url)[]
            {
                ("view", HttpMethod.Get, $"/gallery/{image.Id}"),
                ("file", HttpMethod.Get, $"/images/{image.Id}"),
                ("thumb", HttpMethod.Get, $"/images/{image.Id}/thumb"),
                ("share", HttpMethod.Get, $"/s/{token}"),
                ("share-file", HttpMethod.Get, $"/s/{token}/image"),
                ("share-thumb", HttpMethod.Get, $"/s/{token}/thumb"),
                ("collection-file", HttpMethod.Get, $"/c/{collectionToken}/images/{image.Id}"),
                ("collection-thumb", HttpMethod.Get, $"/c/{collectionToken}/images/{image.Id}/thumb"),
                ("remix", HttpMethod.Get, $"/api/images/{image.Id}/remix"),
                ("lineage", HttpMethod.Get, $"/api/images/{image.Id}/lineage"),
                ("like", HttpMethod.Put, $"/api/images/{image.Id}/like"),
            };
            foreach (var (who, client) in clients)
            {
                foreach (var (surface, method, url) in requests)
                {
                    using var response = await client.SendAsync(new HttpRequestMessage(method, url), TestContext.Current.CancellationToken);
                    var expected = Expected(surface, c, who);
                    var body = await response.Content.ReadAsByteArrayAsync(TestContext.Current.CancellationToken);
                    if ((int)response.StatusCode != expected)
                        mismatches.Add($"{c} {who} {surface} {method} {url}: {(int)response.StatusCode}, expected {expected}");
                    else if (expected == Ok && who != Who.Owner && c == Case.HiddenPrompt && System.Text.Encoding.UTF8.GetString(body).Contains("secretprompt"))
                        mismatches.Add($"{c} {who} {surface}: the hidden prompt leaked");
                    else if (expected != Ok && response.Content.Headers.ContentType?.MediaType is "image/png" or "image/webp")
                        mismatches.Add($"{c} {who} {surface}: image bytes with a refusal");
                }
            }
        }
        // The collection page itself, and the new link of the rotated image.
        foreach (var (who, client) in clients)
        {
            Assert.Equal(HttpStatusCode.OK, (await client.GetAsync($"/c/{collectionToken}", TestContext.Current.CancellationToken)).StatusCode);
            Assert.Equal(HttpStatusCode.OK, (await client.GetAsync(newShareUrl, TestContext.Current.CancellationToken)).StatusCode);
        }
        Assert.True(mismatches.Count == 0, string.Join("\n", mismatches));
    }

    [Fact]
    public async Task CollectionLink_RevokedOrPrivate_Answers404_AndRespectsEachImagesSettings()
    {
        var (ownerClient, ownerId) = await App.RegisterAsync($"coll-{Guid.NewGuid():N}@example.test");
        var hidden = await fixture.AddImageAsync(ownerId, "collectionsecret red square", ImageVisibility.Private, hidePrompt: true, allowRemix: false);
        var open = await fixture.AddImageAsync(ownerId, "collectionopen blue circle", ImageVisibility.Private);
        var token = await CreateSharedCollectionAsync(ownerClient, [hidden.Id, open.Id]);
        using var anonymous = fixture.Anonymous();

        var shared = await anonymous.GetFromJsonAsync<JsonElement>($"/api/shared/collections/{token}", TestContext.Current.CancellationToken);
        var items = shared.GetProperty("items").EnumerateArray().ToList();
        Assert.Equal([hidden.Id, open.Id], items.Select(i => i.GetProperty("id").GetGuid()));
        Assert.Equal($"/c/{token}/images/{hidden.Id}", items[0].GetProperty("image").GetString());
        Assert.DoesNotContain("collectionsecret", shared.GetRawText());
        Assert.Contains("collectionopen", shared.GetRawText());
        Assert.False(items[0].GetProperty("details").GetProperty("allowRemix").GetBoolean());
        // Private images shown by the collection stay invisible any other way.
        Assert.Equal(HttpStatusCode.NotFound, (await anonymous.GetAsync($"/images/{open.Id}", TestContext.Current.CancellationToken)).StatusCode);
        var explore = await anonymous.GetStringAsync("/api/explore?search=collectionopen", TestContext.Current.CancellationToken);
        Assert.Contains("\"total\":0", explore);

        var collectionId = await CollectionIdAsync(ownerClient, token);
        var rotated = await ownerClient.PostAsync($"/api/collections/{collectionId}/share-link", null, TestContext.Current.CancellationToken);
        var newToken = (await rotated.Content.ReadFromJsonAsync<JsonElement>(TestContext.Current.CancellationToken)).GetProperty("shareUrl").GetString()!["/c/".Length..];
        Assert.Equal(HttpStatusCode.NotFound, (await anonymous.GetAsync($"/c/{token}", TestContext.Current.CancellationToken)).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await anonymous.GetAsync($"/api/shared/collections/{token}", TestContext.Current.CancellationToken)).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await anonymous.GetAsync($"/c/{token}/images/{open.Id}", TestContext.Current.CancellationToken)).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await anonymous.GetAsync($"/c/{newToken}/images/{open.Id}", TestContext.Current.CancellationToken)).StatusCode);

        var made = await ownerClient.PatchAsJsonAsync($"/api/collections/{collectionId}", new { visibility = "Private" }, TestContext.Current.CancellationToken);
        Assert.True((await made.Content.ReadFromJsonAsync<JsonElement>(TestContext.Current.CancellationToken)).GetProperty("shareUrl").ValueKind == JsonValueKind.Null);
        Assert.Equal(HttpStatusCode.NotFound, (await anonymous.GetAsync($"/c/{newToken}", TestContext.Current.CancellationToken)).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await anonymous.GetAsync($"/c/{newToken}/images/{open.Id}/thumb", TestContext.Current.CancellationToken)).StatusCode);
    }

    [Fact]
    public async Task Unlisted_NeverInExploreProfilesSearchOrAnotherUsersLineage()
    {
        var (_, aliceId) = await App.RegisterAsync($"alice-{Guid.NewGuid():N}@example.test");
        var (bobClient, bobId) = await App.RegisterAsync($"bob-{Guid.NewGuid():N}@example.test");
        using var anonymous = fixture.Anonymous();
        var word = $"u{Guid.NewGuid():N}"[..12];
        var unlisted = await fixture.AddImageAsync(aliceId, $"{word} unlisted", ImageVisibility.Unlisted);
        var listed = await fixture.AddImageAsync(aliceId, $"{word} listed", ImageVisibility.Public);
        // Bob's public remix of Alice's Unlisted image (made through its link).
        var remix = await fixture.AddImageAsync(bobId, $"{word} remix", ImageVisibility.Public, parent: unlisted.Id);
        var handle = (await App.Services.GetRequiredService<UserProfiles>().EnsureHandleAsync(aliceId, TestContext.Current.CancellationToken)).Handle;

        foreach (var client in new[] { anonymous, bobClient, fixture.Admin })
        {
            foreach (var url in new[] { $"/api/explore?search={word}", $"/api/explore?search={word}&sort=likes&period=week", $"/api/explore?sort=remixes&pageSize=60", $"/api/users/{handle}/images?pageSize=60" })
            {
                var text = await client.GetStringAsync(url, TestContext.Current.CancellationToken);
                Assert.DoesNotContain(unlisted.Id.ToString(), text);
                Assert.DoesNotContain(unlisted.ShareToken!, text);
            }
            Assert.Contains(listed.Id.ToString(), await client.GetStringAsync($"/api/explore?search={word}", TestContext.Current.CancellationToken));
            Assert.DoesNotContain(unlisted.Id.ToString(), await client.GetStringAsync($"/u/{handle}", TestContext.Current.CancellationToken));
        }
        // Bob's remix: its lineage, seen by Bob or anyone, says the source is not available and names nothing of it.
        foreach (var client in new[] { anonymous, bobClient })
        {
            var lineage = await client.GetFromJsonAsync<JsonElement>($"/api/images/{remix.Id}/lineage", TestContext.Current.CancellationToken);
            var parent = Assert.Single(lineage.GetProperty("ancestors").EnumerateArray());
            Assert.False(parent.GetProperty("available").GetBoolean());
            Assert.DoesNotContain(unlisted.Id.ToString(), lineage.GetRawText());
            Assert.DoesNotContain("unlisted", lineage.GetRawText());
            var shared = await client.GetFromJsonAsync<JsonElement>($"/api/shared/images/{remix.ShareToken}", TestContext.Current.CancellationToken);
            Assert.False(shared.GetProperty("parent").GetProperty("available").GetBoolean());
        }
        // Nor does Alice's Unlisted image show up in the descendants of anything: its own lineage is not reachable by id.
        Assert.Equal(HttpStatusCode.NotFound, (await bobClient.GetAsync($"/api/images/{unlisted.Id}/lineage", TestContext.Current.CancellationToken)).StatusCode);
    }

    [Fact]
    public async Task HiddenPrompt_SharePageAndTagsCarryNoPrompt_OwnerStillSeesIt()
    {
        var (ownerClient, ownerId) = await App.RegisterAsync($"hide-{Guid.NewGuid():N}@example.test");
        var image = await fixture.AddImageAsync(ownerId, "zebraword purple triangle", ImageVisibility.Public, hidePrompt: true);
        using var anonymous = fixture.Anonymous();

        var page = await anonymous.GetStringAsync($"/s/{image.ShareToken}", TestContext.Current.CancellationToken);
        Assert.DoesNotContain("zebraword", page);
        Assert.Contains("data-testid=\"prompt-hidden\"", page);
        Assert.Contains($"<meta property=\"og:image\" content=\"http://localhost/s/{image.ShareToken}/image\"", page);
        var remix = await anonymous.GetFromJsonAsync<JsonElement>($"/api/images/{image.Id}/remix", TestContext.Current.CancellationToken);
        Assert.Equal(JsonValueKind.Null, remix.GetProperty("prompt").ValueKind);
        Assert.True(remix.GetProperty("promptHidden").GetBoolean());

        Assert.Contains("zebraword", PngChunks.ReadText(await ownerClient.GetByteArrayAsync($"/images/{image.Id}", TestContext.Current.CancellationToken))["parameters"]);
        Assert.Empty(PngChunks.ReadText(await anonymous.GetByteArrayAsync($"/s/{image.ShareToken}/image", TestContext.Current.CancellationToken)));
        Assert.Empty(PngChunks.ReadText(await anonymous.GetByteArrayAsync($"/images/{image.Id}", TestContext.Current.CancellationToken)));
    }

    [Fact]
    public async Task PublicSharePage_HasOpenGraphTagsWithAnAbsoluteImageAnonymousCrawlersCanFetch()
    {
        var (_, ownerId) = await App.RegisterAsync($"og-{Guid.NewGuid():N}@example.test");
        var image = await fixture.AddImageAsync(ownerId, "a golden star over the sea", ImageVisibility.Unlisted);
        using var crawler = fixture.Anonymous();

        var page = await crawler.GetStringAsync($"/s/{image.ShareToken}", TestContext.Current.CancellationToken);
        var ogImage = System.Text.RegularExpressions.Regex.Match(page, "<meta property=\"og:image\" content=\"([^\"]+)\"").Groups[1].Value;
        Assert.StartsWith("http://localhost/s/", ogImage);
        Assert.Contains("name=\"twitter:card\" content=\"summary_large_image\"", page);
        Assert.Contains("a golden star over the sea", page);
        var png = await crawler.GetAsync(new Uri(ogImage).PathAndQuery, TestContext.Current.CancellationToken);
        Assert.Equal(HttpStatusCode.OK, png.StatusCode);
        Assert.Equal("image/png", png.Content.Headers.ContentType?.MediaType);
        Assert.DoesNotContain("@example.test", page); // the creator's e-mail address is never shown
    }

    private static async Task<string> CreateSharedCollectionAsync(HttpClient owner, IEnumerable<Guid> imageIds)
    {
        var created = await owner.PostAsJsonAsync("/api/collections", new { name = "Shared set", description = "for the matrix" });
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var id = (await created.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetGuid();
        Assert.Equal(HttpStatusCode.OK, (await owner.PutAsJsonAsync($"/api/collections/{id}/images", new { imageIds })).StatusCode);
        var patched = await owner.PatchAsJsonAsync($"/api/collections/{id}", new { visibility = "Unlisted" });
        Assert.Equal(HttpStatusCode.OK, patched.StatusCode);
        return (await patched.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("shareUrl").GetString()!["/c/".Length..];
    }

    private static async Task<Guid> CollectionIdAsync(HttpClient owner, string token)
    {
        var all = await owner.GetFromJsonAsync<JsonElement>("/api/collections");
        return all.EnumerateArray().Single(c => c.GetProperty("shareUrl").GetString() == $"/c/{token}").GetProperty("id").GetGuid();
    }
}
