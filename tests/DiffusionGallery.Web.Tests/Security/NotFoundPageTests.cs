using System.Net;
using DiffusionGallery.Web.Tests.Integration;

namespace DiffusionGallery.Web.Tests.Security;

/// <summary>Unknown URLs render the app's not-found page (status 404), in Development and in Production.</summary>
public sealed class NotFoundPageTests
{
    [Theory]
    [InlineData("Development", "/nope")]
    [InlineData("Development", "/administration")]
    [InlineData("Production", "/nope")]
    [InlineData("Production", "/admin/users/7")]
    public async Task UnknownUrl_404_WithTheAppsNotFoundPage(string environment, string path)
    {
        await using var app = new GalleryAppFactory { Environment = environment };

        var response = await app.CreateClient().GetAsync(path, TestContext.Current.CancellationToken);
        var html = await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken);

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Contains("does not exist", html, StringComparison.Ordinal);
        Assert.Contains("DiffusionGallery", html, StringComparison.Ordinal); // inside the app's layout
        Assert.Matches("<a[^>]*href=\"./\"[^>]*data-testid=\"home-link\"|<a[^>]*data-testid=\"home-link\"[^>]*href=\"./\"", html);
        Assert.Contains("Account/Login", html, StringComparison.Ordinal); // an anonymous visitor is offered to sign in
    }

    [Fact]
    public async Task UnknownApiUrl_IsA404ProblemJson_NotTheUiPage()
    {
        await using var app = new GalleryAppFactory { Environment = "Production" };
        var response = await app.CreateTokenClient("dgp_x").GetAsync("/api/nope", TestContext.Current.CancellationToken);
        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        // README: API errors are application/problem+json (it was an empty body); never the UI's HTML page.
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var body = await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken);
        Assert.Contains("/api/nope", body, StringComparison.Ordinal);
        Assert.DoesNotContain("<html", body, StringComparison.OrdinalIgnoreCase);
    }
}
