using DiffusionGallery.Web.Tests.Integration;

namespace DiffusionGallery.Web.Tests.Admin;

/// <summary>One real app per test class; the first account registered is the Admin.</summary>
public sealed class AdminAppFixture : IAsyncLifetime
{
    public GalleryAppFactory App { get; } = new();
    public HttpClient AdminCookie { get; private set; } = null!;
    public HttpClient AdminToken { get; private set; } = null!;
    public string AdminId { get; private set; } = "";

    public async ValueTask InitializeAsync()
    {
        (AdminCookie, AdminId) = await App.RegisterAsync($"admin-{Guid.NewGuid():N}@example.test");
        AdminToken = App.CreateTokenClient(await App.CreateTokenAsync(AdminId));
        if (!await App.IsInRoleAsync(AdminId, "Admin")) throw new InvalidOperationException("The first account should be the Admin.");
    }

    public async Task<TestUser> RegisterUserAsync(string prefix = "user")
    {
        var email = $"{prefix}-{Guid.NewGuid():N}@example.test";
        var (cookie, id) = await App.RegisterAsync(email);
        var secret = await App.CreateTokenAsync(id);
        return new TestUser(cookie, App.CreateTokenClient(secret), id, secret, email);
    }

    /// <summary>Signs in through the real form; the cookie then carries the roles the account has now.</summary>
    public async Task<HttpClient> SignInAsync(string email)
    {
        var client = App.CreateClient(new Microsoft.AspNetCore.Mvc.Testing.WebApplicationFactoryClientOptions { AllowAutoRedirect = false, HandleCookies = true });
        var response = await GalleryAppFactory.PostFormAsync(client, "/Account/Login", new()
        {
            ["Input.Email"] = email,
            ["Input.Password"] = GalleryAppFactory.Password,
        });
        if (response.StatusCode != System.Net.HttpStatusCode.Redirect || response.Headers.Location?.ToString().Contains("Lockout") == true)
            throw new InvalidOperationException($"Sign-in of {email} failed: {response.StatusCode} {response.Headers.Location}");
        return client;
    }

    public async ValueTask DisposeAsync()
    {
        AdminCookie?.Dispose();
        AdminToken?.Dispose();
        await App.DisposeAsync();
    }
}

public sealed record TestUser(HttpClient Cookie, HttpClient Token, string Id, string Secret, string Email);
