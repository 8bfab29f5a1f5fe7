using System.Net;
using DiffusionGallery.Web.Data.Entities;
using DiffusionGallery.Web.Tests.Integration;
using Microsoft.EntityFrameworkCore;

namespace DiffusionGallery.Web.Tests.Gallery;

/// <summary>Defect 9: <c>/gallery/{id}</c> of someone else's (or no) image is the app's real 404 page, not a 200 with a message.</summary>
public sealed class ImageDetailsAccessTests(GenerationFlowTests.AppFixture fixture) : IClassFixture<GenerationFlowTests.AppFixture>
{
    [Fact]
    public async Task Owner200_OtherUser404Page_Unknown404Page_AnonymousToSignIn()
    {
        var app = fixture.App;
        var (ownerClient, owner) = await app.RegisterAsync($"owner-{Guid.NewGuid():N}@example.test");
        var (otherClient, _) = await app.RegisterAsync($"other-{Guid.NewGuid():N}@example.test");
        var job = await app.SubmitAsAsync(owner, new GenerationSettings { Prompt = "a private purple star", Model = "tiny-shapes", Steps = 2, Seed = 8 });
        Guid imageId = default;
        await GenerationFlowTests.WaitUntilAsync(async () =>
        {
            await using var db = app.CreateDbContext();
            imageId = await db.GeneratedImages.Where(i => i.JobId == job.Id).Select(i => i.Id).SingleOrDefaultAsync();
            return imageId != default;
        });

        var mine = await ownerClient.GetAsync($"/gallery/{imageId}", TestContext.Current.CancellationToken);
        Assert.Equal(HttpStatusCode.OK, mine.StatusCode);
        Assert.Contains("a private purple star", await mine.Content.ReadAsStringAsync(TestContext.Current.CancellationToken));

        foreach (var path in new[] { $"/gallery/{imageId}", $"/gallery/{Guid.NewGuid()}" })
        {
            var response = await otherClient.GetAsync(path, TestContext.Current.CancellationToken);
            var html = await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken);
            Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
            Assert.Contains("data-testid=\"not-found\"", html); // the app's own not-found page, in the app's layout
            Assert.Contains("_content/MudBlazor/MudBlazor.min", html);
            Assert.DoesNotContain("a private purple star", html);
        }

        using var anonymous = app.CreateClient(new Microsoft.AspNetCore.Mvc.Testing.WebApplicationFactoryClientOptions { AllowAutoRedirect = false });
        // The page is open to anonymous visitors for Public images (Sharing); a Private one is simply not found.
        var signedOut = await anonymous.GetAsync($"/gallery/{imageId}", TestContext.Current.CancellationToken);
        Assert.Equal(HttpStatusCode.NotFound, signedOut.StatusCode);
        Assert.DoesNotContain("a private purple star", await signedOut.Content.ReadAsStringAsync(TestContext.Current.CancellationToken));
    }
}
