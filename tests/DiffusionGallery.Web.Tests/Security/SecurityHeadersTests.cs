using System.Net;
using System.Text.RegularExpressions;
using DiffusionGallery.Web.Tests.Integration;
using Microsoft.AspNetCore.Mvc.Testing;

namespace DiffusionGallery.Web.Tests.Security;

public sealed partial class SecurityHeadersTests(GenerationFlowTests.AppFixture fixture) : IClassFixture<GenerationFlowTests.AppFixture>
{
    private GalleryAppFactory App => fixture.App;

    [GeneratedRegex("""<script type="importmap" nonce="(?<nonce>[^"]+)">""")]
    private static partial Regex ImportMapNonce();

    [Theory]
    [InlineData("/")]
    [InlineData("/Account/Login")]
    [InlineData("/nope")]
    public async Task Pages_CarryTheFullPolicy_WithTheImportMapsNonce(string path)
    {
        var response = await App.CreateClient().GetAsync(path, TestContext.Current.CancellationToken);
        var policy = Assert.Single(response.Headers.GetValues("Content-Security-Policy"));
        var html = await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken);

        var directives = policy.Split(';', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries)
            .ToDictionary(d => d.Split(' ')[0], d => d.Split(' ').Skip(1).ToArray());
        Assert.Equal(["'self'"], directives["default-src"]);
        Assert.Equal(["'self'"], directives["connect-src"]);
        Assert.Equal(["'none'"], directives["frame-ancestors"]);
        Assert.Equal(["'none'"], directives["object-src"]);
        Assert.DoesNotContain("'unsafe-inline'", directives["script-src"]);
        Assert.DoesNotContain(directives.Values.SelectMany(v => v), v => v.Contains("unsafe-eval", StringComparison.Ordinal));
        Assert.Contains("'self'", directives["img-src"]);
        Assert.Contains("'self'", directives["style-src"]);

        var nonce = WebUtility.HtmlDecode(ImportMapNonce().Match(html).Groups["nonce"].Value);
        Assert.NotEmpty(nonce);
        Assert.Contains($"'nonce-{nonce}'", directives["script-src"]);
        Assert.Equal(["nosniff"], response.Headers.GetValues("X-Content-Type-Options"));
    }

    [Fact]
    public async Task Nonce_IsFreshForEveryResponse()
    {
        var client = App.CreateClient();
        var first = (await client.GetAsync("/", TestContext.Current.CancellationToken)).Headers.GetValues("Content-Security-Policy").Single();
        var second = (await client.GetAsync("/", TestContext.Current.CancellationToken)).Headers.GetValues("Content-Security-Policy").Single();
        Assert.NotEqual(first, second);
    }

    [Theory]
    [InlineData("/api/images")]
    [InlineData("/api/generations/00000000-0000-0000-0000-000000000001")]
    [InlineData("/images/00000000-0000-0000-0000-000000000001")]
    public async Task Api_WithoutCredentials_401WithBearerChallenge(string path)
    {
        var response = await App.CreateClient(new WebApplicationFactoryClientOptions { AllowAutoRedirect = false }).GetAsync(path, TestContext.Current.CancellationToken);

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Contains(response.Headers.WwwAuthenticate, h => h.Scheme == "Bearer");
    }

    [Fact]
    public async Task Api_WithUnknownToken_401SaysInvalidToken()
    {
        var response = await App.CreateTokenClient("dgp_not-a-real-token").GetAsync("/api/images", TestContext.Current.CancellationToken);

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        var challenge = Assert.Single(response.Headers.WwwAuthenticate, h => h.Scheme == "Bearer");
        Assert.Contains("error=\"invalid_token\"", challenge.Parameter, StringComparison.Ordinal);
    }

    private static HttpRequestMessage Negotiate(string? origin)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, "/hubs/generation/negotiate?negotiateVersion=1");
        if (origin is not null) request.Headers.Add("Origin", origin);
        return request;
    }

    [Fact]
    public async Task Hub_CookieFromForeignOrigin_403_SameOriginAndTokenClientsAllowed()
    {
        var (cookieClient, userId) = await App.RegisterAsync($"origin-{Guid.NewGuid():N}@example.test");
        var tokenClient = App.CreateTokenClient(await App.CreateTokenAsync(userId));

        Assert.Equal(HttpStatusCode.Forbidden, (await cookieClient.SendAsync(Negotiate("https://evil.example"), TestContext.Current.CancellationToken)).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await cookieClient.SendAsync(Negotiate("http://localhost.evil.example"), TestContext.Current.CancellationToken)).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await cookieClient.SendAsync(Negotiate("http://localhost"), TestContext.Current.CancellationToken)).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await cookieClient.SendAsync(Negotiate(null), TestContext.Current.CancellationToken)).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await tokenClient.SendAsync(Negotiate("https://tool.example"), TestContext.Current.CancellationToken)).StatusCode);
    }

    [Fact]
    public async Task Hub_WebSocketUpgradeWithCookieFromForeignOrigin_Refused403()
    {
        var cookie = await SignInCookieAsync();
        Assert.NotEmpty(cookie);
        var ws = App.Server.CreateWebSocketClient();
        ws.ConfigureRequest = request =>
        {
            request.Headers.Origin = "https://evil.example";
            request.Headers.Cookie = cookie;
        };

        var refused = await Assert.ThrowsAnyAsync<Exception>(() => ws.ConnectAsync(new Uri(App.Server.BaseAddress, "hubs/generation"), CancellationToken.None));
        Assert.Contains("403", refused.Message, StringComparison.Ordinal);
    }

    /// <summary>The sign-in cookie as a Cookie header (signs in again on a client that records Set-Cookie).</summary>
    private async Task<string> SignInCookieAsync()
    {
        var email = $"ws2-{Guid.NewGuid():N}@example.test";
        await App.RegisterAsync(email);
        var raw = App.CreateClient(new WebApplicationFactoryClientOptions { AllowAutoRedirect = false, HandleCookies = false });
        var page = await raw.GetAsync("/Account/Login");
        var antiforgeryCookies = page.Headers.GetValues("Set-Cookie").Select(c => c.Split(';')[0]).ToList();
        var html = await page.Content.ReadAsStringAsync();
        var fields = HiddenInput().Matches(html).ToDictionary(m => WebUtility.HtmlDecode(m.Groups["name"].Value), m => WebUtility.HtmlDecode(m.Groups["value"].Value));
        fields["Input.Email"] = email;
        fields["Input.Password"] = GalleryAppFactory.Password;
        var post = new HttpRequestMessage(HttpMethod.Post, "/Account/Login") { Content = new FormUrlEncodedContent(fields) };
        post.Headers.Add("Cookie", string.Join("; ", antiforgeryCookies));
        var response = await raw.SendAsync(post);
        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        return string.Join("; ", response.Headers.GetValues("Set-Cookie").Select(c => c.Split(';')[0]).Where(c => c.StartsWith(".AspNetCore.Identity.Application", StringComparison.Ordinal)));
    }

    [GeneratedRegex("""<input[^>]*type="hidden"[^>]*name="(?<name>[^"]+)"[^>]*value="(?<value>[^"]*)"[^>]*>""")]
    private static partial Regex HiddenInput();
}
