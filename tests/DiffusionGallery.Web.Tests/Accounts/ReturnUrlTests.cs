using System.Net;
using DiffusionGallery.Web.Components.Account;
using DiffusionGallery.Web.Tests.Integration;
using Microsoft.AspNetCore.Components;

namespace DiffusionGallery.Web.Tests.Accounts;

public sealed class ReturnUrlTests(GenerationFlowTests.AppFixture fixture) : IClassFixture<GenerationFlowTests.AppFixture>
{
    private GalleryAppFactory App => fixture.App;

    [Theory]
    [InlineData("https://evil.example/", "/")]
    [InlineData("//evil.example", "/")]
    [InlineData("/\\evil.example", "/")]
    [InlineData("javascript:alert(1)", "/")]
    [InlineData("/gallery?page=2", "/gallery?page=2")]
    [InlineData("http://localhost/generate", "/generate")]
    public async Task SignIn_WithReturnUrl_GoesThereOnlyWhenLocal(string returnUrl, string expected)
    {
        var email = $"ret-{Guid.NewGuid():N}@example.test";
        await App.RegisterAsync(email);
        var client = App.CreateClient(new Microsoft.AspNetCore.Mvc.Testing.WebApplicationFactoryClientOptions { AllowAutoRedirect = false, HandleCookies = true });
        var path = "/Account/Login?ReturnUrl=" + Uri.EscapeDataString(returnUrl);

        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync(path, TestContext.Current.CancellationToken)).StatusCode);
        var response = await GalleryAppFactory.PostFormAsync(client, path, new() { ["Input.Email"] = email, ["Input.Password"] = GalleryAppFactory.Password });

        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        Assert.Equal(expected, response.Headers.Location!.IsAbsoluteUri ? response.Headers.Location.PathAndQuery : response.Headers.Location.OriginalString);
    }

    [Theory]
    [InlineData(null, "")]
    [InlineData("https://evil.example/x", "")]
    [InlineData("HTTPS://EVIL.EXAMPLE", "")]
    [InlineData("//evil.example/x", "")]
    [InlineData("\\\\evil.example", "")]
    [InlineData("/\t/evil.example", "")]
    [InlineData("data:text/html,x", "")]
    [InlineData("https://app.test.evil.example/", "")]
    [InlineData("https://app.test/gallery", "gallery")]
    [InlineData("Account/Lockout", "Account/Lockout")]
    [InlineData("/generate", "/generate")]
    public void ToLocal_KeepsOnlyThisSitesUrls(string? input, string expected)
    {
        var redirects = new IdentityRedirectManager(new FixedNavigationManager("https://app.test/"));
        Assert.Equal(expected, redirects.ToLocal(input));
    }

    private sealed class FixedNavigationManager : NavigationManager
    {
        public FixedNavigationManager(string baseUri) => Initialize(baseUri, baseUri);
    }
}
