using System.Net;
using DiffusionGallery.Web.Data.Entities;
using DiffusionGallery.Web.Tests.Integration;
using DiffusionGallery.Web.Tests.Sharing;

namespace DiffusionGallery.Web.Tests.Lab;

/// <summary>"Use as reference" on the pages where a viewer sees someone else's image (share page, page from Explore), prerendered.</summary>
public sealed class UseAsReferenceLinkTests(SharingAppFixture fixture) : IClassFixture<SharingAppFixture>
{
    private GalleryAppFactory App => fixture.App;
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task ShownForAPublicImageThatAllowsRemix_ToAUserAndThroughSignInToAnonymous_NotForNoRemixOrUnlisted()
    {
        var (_, creatorId) = await App.RegisterAsync($"creator-{Guid.NewGuid():N}@example.test");
        var (viewer, _) = await App.RegisterAsync($"viewer-{Guid.NewGuid():N}@example.test");
        using var anonymous = fixture.Anonymous();
        var open = await fixture.AddImageAsync(creatorId, "a red circle", ImageVisibility.Public);
        var closed = await fixture.AddImageAsync(creatorId, "a blue star", ImageVisibility.Public, allowRemix: false);
        var unlisted = await fixture.AddImageAsync(creatorId, "a green square", ImageVisibility.Unlisted);

        Assert.Contains($"href=\"generate?reference={open.Id}\"", await PageAsync(viewer, $"/gallery/{open.Id}"));
        Assert.Contains($"href=\"generate?reference={open.Id}\"", await PageAsync(viewer, $"/s/{open.ShareToken}"));
        Assert.Contains($"ReturnUrl={Uri.EscapeDataString($"/generate?reference={open.Id}")}", await PageAsync(anonymous, $"/s/{open.ShareToken}"));
        foreach (var page in new[] { $"/gallery/{closed.Id}", $"/s/{closed.ShareToken}", $"/s/{unlisted.ShareToken}" })
        {
            var html = await PageAsync(viewer, page);
            Assert.Contains("data-testid=\"remixes\"", html); // the image's page rendered
            Assert.DoesNotContain("use-as-reference", html);
        }
    }

    private static async Task<string> PageAsync(HttpClient client, string url)
    {
        var response = await client.GetAsync(url, Ct);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return await response.Content.ReadAsStringAsync(Ct);
    }
}
