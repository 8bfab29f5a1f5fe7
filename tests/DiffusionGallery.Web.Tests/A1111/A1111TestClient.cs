// Whole HTTP round trips bounded by their own timeouts, as the Integration folder's tests (see .editorconfig).
#pragma warning disable xUnit1051
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using DiffusionGallery.Web.Tests.Integration;
using Microsoft.AspNetCore.Mvc.Testing;

namespace DiffusionGallery.Web.Tests.A1111;

/// <summary>An A1111 client as the ecosystem's tools are: JSON over HTTP with Basic credentials (user name + token).</summary>
internal sealed record A1111User(HttpClient Client, string UserId, string Email, string Token, HttpClient Cookie)
{
    public const string UserAgent = "a1111-test-client/1.0";

    public static async Task<A1111User> CreateAsync(GalleryAppFactory app, string prefix = "a1111")
    {
        var email = $"{prefix}-{Guid.NewGuid():N}@example.test";
        var (cookie, userId) = await app.RegisterAsync(email);
        var token = await app.CreateTokenAsync(userId);
        return new A1111User(BasicClient(app, email, token), userId, email, token, cookie);
    }

    public static HttpClient BasicClient(GalleryAppFactory app, string user, string password)
    {
        var client = app.CreateClient(new WebApplicationFactoryClientOptions { AllowAutoRedirect = false, HandleCookies = false });
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"{user}:{password}")));
        client.DefaultRequestHeaders.UserAgent.ParseAdd(UserAgent);
        client.Timeout = TimeSpan.FromMinutes(5);
        return client;
    }

    public async Task<(HttpResponseMessage Response, JsonElement Body)> PostAsync(string path, object body)
    {
        var response = await Client.PostAsJsonAsync(path, body);
        var text = await response.Content.ReadAsStringAsync();
        return (response, text.Length == 0 ? default : JsonDocument.Parse(text).RootElement.Clone());
    }

    public async Task<JsonElement> GetAsync(string path)
    {
        var response = await Client.GetAsync(path);
        response.EnsureSuccessStatusCode();
        return JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.Clone();
    }
}
