using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using DiffusionGallery.Web.Tests.A1111;
using DiffusionGallery.Web.Tests.Integration;

namespace DiffusionGallery.Web.Tests.Errors;

/// <summary>
/// Every error answer of the REST API has a body: <c>application/problem+json</c> with a title and a detail, also for
/// 401s from authentication and 404s of unknown ids or paths (they were empty, Content-Length 0). The A1111 API answers
/// as FastAPI does, <c>{"detail": …}</c>.
/// </summary>
public sealed class ApiErrorBodyTests(GenerationFlowTests.AppFixture fixture) : IClassFixture<GenerationFlowTests.AppFixture>
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;
    private GalleryAppFactory App => fixture.App;

    private static async Task<(string Title, string Detail)> ReadProblemAsync(HttpResponseMessage response, HttpStatusCode status)
    {
        Assert.Equal(status, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var problem = await response.Content.ReadFromJsonAsync<JsonElement>(Ct);
        Assert.Equal((int)status, problem.GetProperty("status").GetInt32());
        var (title, detail) = (problem.GetProperty("title").GetString()!, problem.GetProperty("detail").GetString()!);
        Assert.False(string.IsNullOrWhiteSpace(title));
        Assert.False(string.IsNullOrWhiteSpace(detail));
        return (title, detail);
    }

    [Fact]
    public async Task UnknownIds_Answer404ProblemJson_NamingWhatWasNotFound()
    {
        var (_, userId) = await App.RegisterAsync($"nf-{Guid.NewGuid():N}@example.test");
        using var api = App.CreateTokenClient(await App.CreateTokenAsync(userId));
        var id = Guid.NewGuid();

        Assert.Contains(id.ToString(), (await ReadProblemAsync(await api.GetAsync($"/api/images/{id}", Ct), HttpStatusCode.NotFound)).Detail);
        Assert.Contains(id.ToString(), (await ReadProblemAsync(await api.DeleteAsync($"/api/images/{id}", Ct), HttpStatusCode.NotFound)).Detail);
        Assert.Contains(id.ToString(), (await ReadProblemAsync(await api.GetAsync($"/api/generations/{id}", Ct), HttpStatusCode.NotFound)).Detail);
        Assert.Contains(id.ToString(), (await ReadProblemAsync(await api.GetAsync($"/api/uploads/{id}", Ct), HttpStatusCode.NotFound)).Detail);
        Assert.Contains(id.ToString(), (await ReadProblemAsync(await api.DeleteAsync($"/api/tokens/{id}", Ct), HttpStatusCode.NotFound)).Detail);
        // An unknown path under /api is a problem too (not the UI's "not found" page).
        var (_, detail) = await ReadProblemAsync(await api.GetAsync("/api/no-such-thing", Ct), HttpStatusCode.NotFound);
        Assert.Contains("/api/no-such-thing", detail);
        Assert.Equal(HttpStatusCode.MethodNotAllowed, (await api.PutAsync("/api/images", null, Ct)).StatusCode);
        await ReadProblemAsync(await api.PutAsync("/api/images", null, Ct), HttpStatusCode.MethodNotAllowed);
    }

    [Fact]
    public async Task NoOrBadToken_Answers401ProblemJson_WithWwwAuthenticate_SayingWhatToDo()
    {
        using var anonymous = App.CreateClient(new Microsoft.AspNetCore.Mvc.Testing.WebApplicationFactoryClientOptions { AllowAutoRedirect = false });
        var missing = await anonymous.GetAsync("/api/images", Ct);
        var (title, detail) = await ReadProblemAsync(missing, HttpStatusCode.Unauthorized);
        Assert.Equal("Sign-in required.", title);
        Assert.Contains("Bearer", detail);
        Assert.StartsWith("Bearer", missing.Headers.WwwAuthenticate.ToString());
        await ReadProblemAsync(await anonymous.PostAsJsonAsync("/api/generations", new { prompt = "x" }, Ct), HttpStatusCode.Unauthorized);

        using var bogus = App.CreateTokenClient("dgp_not-a-real-token");
        var bad = await bogus.GetAsync($"/api/generations/{Guid.NewGuid()}", Ct);
        Assert.Contains("revoked", (await ReadProblemAsync(bad, HttpStatusCode.Unauthorized)).Detail);
        Assert.Contains("invalid_token", bad.Headers.WwwAuthenticate.ToString());
    }

    [Fact]
    public async Task NonAdmin_OnAdminApi_Answers403ProblemJson()
    {
        await App.RegisterAsync($"first-{Guid.NewGuid():N}@example.test"); // the first account of an app is its Admin
        var (_, userId) = await App.RegisterAsync($"na-{Guid.NewGuid():N}@example.test");
        using var api = App.CreateTokenClient(await App.CreateTokenAsync(userId));
        Assert.False(await App.IsInRoleAsync(userId, "Admin"));
        Assert.Contains("Admin", (await ReadProblemAsync(await api.GetAsync("/api/admin/users", Ct), HttpStatusCode.Forbidden)).Detail);
    }

    [Fact]
    public async Task A1111Api_UnknownPath_AnswersFastApisDetail_NotProblemJson()
    {
        var user = await A1111User.CreateAsync(App);
        var response = await user.Client.GetAsync("/sdapi/v1/no-such-endpoint", Ct);
        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal("Not Found", (await response.Content.ReadFromJsonAsync<JsonElement>(Ct)).GetProperty("detail").GetString());
        using var anonymous = App.CreateClient();
        var unauthorized = await anonymous.GetAsync("/sdapi/v1/samplers", Ct);
        Assert.Equal("Not authenticated", (await unauthorized.Content.ReadFromJsonAsync<JsonElement>(Ct)).GetProperty("detail").GetString());
    }
}
