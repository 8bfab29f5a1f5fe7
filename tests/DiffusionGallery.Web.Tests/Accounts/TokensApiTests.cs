// Whole HTTP round trips bounded by their own timeouts, as the Integration folder's tests (see .editorconfig).
#pragma warning disable xUnit1051
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using DiffusionGallery.Web.Tests.Integration;

namespace DiffusionGallery.Web.Tests.Accounts;

/// <summary>POST/GET/DELETE /api/tokens: created with the browser cookie only, listed without secrets, revoked for good.</summary>
public sealed class TokensApiTests(GenerationFlowTests.AppFixture fixture) : IClassFixture<GenerationFlowTests.AppFixture>
{
    private GalleryAppFactory App => fixture.App;

    [Fact]
    public async Task CookieCreates_SecretShownOnce_ListHasNoSecret_RevokeEndsIt()
    {
        var (cookie, _) = await App.RegisterAsync($"tokens-{Guid.NewGuid():N}@example.test");
        var create = await cookie.PostAsJsonAsync("/api/tokens", new { name = "my script" });
        Assert.Equal(HttpStatusCode.Created, create.StatusCode);
        var created = JsonDocument.Parse(await create.Content.ReadAsStringAsync()).RootElement;
        var id = created.GetProperty("id").GetGuid();
        var token = created.GetProperty("token").GetString()!;
        Assert.StartsWith("dgp_", token);
        Assert.Equal($"/api/tokens/{id}", create.Headers.Location?.OriginalString);

        using var api = App.CreateTokenClient(token);
        Assert.Equal(HttpStatusCode.OK, (await api.GetAsync("/api/images")).StatusCode);

        var listText = await cookie.GetStringAsync("/api/tokens");
        var listed = JsonDocument.Parse(listText).RootElement.EnumerateArray().Single(t => t.GetProperty("id").GetGuid() == id);
        Assert.Equal("my script", listed.GetProperty("name").GetString());
        Assert.DoesNotContain(token, listText);
        Assert.DoesNotContain(DiffusionGallery.Web.Accounts.PersonalAccessTokenService.Hash(token), listText);
        Assert.False(listed.TryGetProperty("token", out _));

        Assert.Equal(HttpStatusCode.NoContent, (await cookie.DeleteAsync($"/api/tokens/{id}")).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await api.GetAsync("/api/images")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await cookie.DeleteAsync($"/api/tokens/{id}")).StatusCode);
    }

    [Fact]
    public async Task ATokenCannotMintTokens_AnonymousCannotEither()
    {
        var (_, userId) = await App.RegisterAsync($"mint-{Guid.NewGuid():N}@example.test");
        using var api = App.CreateTokenClient(await App.CreateTokenAsync(userId));
        var refused = await api.PostAsJsonAsync("/api/tokens", new { name = "escalate" });
        Assert.Equal(HttpStatusCode.Forbidden, refused.StatusCode);
        Assert.Equal("application/problem+json", refused.Content.Headers.ContentType?.MediaType);
        Assert.Contains("cannot create tokens", await refused.Content.ReadAsStringAsync());

        var anonymous = App.CreateClient(new Microsoft.AspNetCore.Mvc.Testing.WebApplicationFactoryClientOptions { AllowAutoRedirect = false });
        Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.PostAsJsonAsync("/api/tokens", new { name = "x" })).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.GetAsync("/api/tokens")).StatusCode);

        await using var db = App.CreateDbContext();
        Assert.Equal(1, db.PersonalAccessTokens.Count(t => t.UserId == userId));
    }

    [Fact]
    public async Task OtherUsersTokens_AreNeitherListedNorRevocable_BadNamesAre400()
    {
        var (owner, _) = await App.RegisterAsync($"owner-{Guid.NewGuid():N}@example.test");
        var (intruder, _) = await App.RegisterAsync($"intruder-{Guid.NewGuid():N}@example.test");
        var created = JsonDocument.Parse(await (await owner.PostAsJsonAsync("/api/tokens", new { name = "mine" })).Content.ReadAsStringAsync()).RootElement;
        var id = created.GetProperty("id").GetGuid();

        Assert.Equal(HttpStatusCode.NotFound, (await intruder.DeleteAsync($"/api/tokens/{id}")).StatusCode);
        Assert.DoesNotContain(id.ToString(), await intruder.GetStringAsync("/api/tokens"));
        using var stillWorks = App.CreateTokenClient(created.GetProperty("token").GetString()!);
        Assert.Equal(HttpStatusCode.OK, (await stillWorks.GetAsync("/api/images")).StatusCode);

        foreach (var name in new[] { "", "   ", new string('x', 101) })
        {
            var bad = await owner.PostAsJsonAsync("/api/tokens", new { name });
            Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
            var problem = JsonDocument.Parse(await bad.Content.ReadAsStringAsync()).RootElement;
            Assert.Contains("1 to 100 characters", problem.GetProperty("errors").GetProperty("name")[0].GetString());
        }
    }
}
