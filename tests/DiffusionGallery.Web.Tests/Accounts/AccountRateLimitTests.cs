using System.Net;
using DiffusionGallery.Web.Accounts.RateLimiting;
using DiffusionGallery.Web.Tests.Integration;
using Microsoft.AspNetCore.Mvc.Testing;

namespace DiffusionGallery.Web.Tests.Accounts;

/// <summary>The account rate limit with its default configuration (the shared test factory raises it for other tests).</summary>
public sealed class AccountRateLimitTests
{
    private static readonly AccountRateLimitOptions Defaults = new();

    private static GalleryAppFactory NewApp()
    {
        var app = new GalleryAppFactory();
        app.Settings["AccountRateLimits:PerAddressPermitLimit"] = Defaults.PerAddressPermitLimit.ToString(System.Globalization.CultureInfo.InvariantCulture);
        app.Settings["AccountRateLimits:PerAccountPermitLimit"] = Defaults.PerAccountPermitLimit.ToString(System.Globalization.CultureInfo.InvariantCulture);
        return app;
    }

    private static HttpClient NewClient(GalleryAppFactory app) => app.CreateClient(new WebApplicationFactoryClientOptions { AllowAutoRedirect = false, HandleCookies = true });

    [Fact]
    public async Task FortyRapidSignIns_OneAccount_ThrottledAfterTheAccountLimit_429WithRetryAfter()
    {
        await using var app = NewApp();
        var client = NewClient(app);
        var statuses = new List<HttpResponseMessage>();
        for (var i = 0; i < 40; i++)
            statuses.Add(await GalleryAppFactory.PostFormAsync(client, "/Account/Login", new() { ["Input.Email"] = "victim@example.test", ["Input.Password"] = "guess " + i }));

        Assert.All(statuses.Take(Defaults.PerAccountPermitLimit), r => Assert.NotEqual(HttpStatusCode.TooManyRequests, r.StatusCode));
        var throttled = statuses.Skip(Defaults.PerAccountPermitLimit).ToList();
        Assert.All(throttled, r => Assert.Equal(HttpStatusCode.TooManyRequests, r.StatusCode));
        var retryAfter = throttled[0].Headers.RetryAfter?.Delta;
        Assert.NotNull(retryAfter);
        Assert.InRange(retryAfter.Value.TotalSeconds, 1, Defaults.WindowSeconds);
        Assert.Contains("Too many attempts", await throttled[0].Content.ReadAsStringAsync(TestContext.Current.CancellationToken));
    }

    [Fact]
    public async Task PasswordSpray_ManyAccountsFromOneAddress_ThrottledAfterTheAddressLimit()
    {
        await using var app = NewApp();
        var client = NewClient(app);
        var answered = 0;
        HttpResponseMessage? first429 = null;
        for (var i = 0; i < 40; i++)
        {
            var response = await GalleryAppFactory.PostFormAsync(client, "/Account/Login", new() { ["Input.Email"] = $"user{i}@example.test", ["Input.Password"] = "Summer2026!" });
            if (response.StatusCode == HttpStatusCode.TooManyRequests) first429 ??= response;
            else answered++;
        }

        Assert.Equal(Defaults.PerAddressPermitLimit, answered);
        Assert.NotNull(first429!.Headers.RetryAfter);
    }

    [Theory]
    [InlineData("/Account/Register")]
    [InlineData("/Account/ForgotPassword")]
    [InlineData("/Account/ResendEmailConfirmation")]
    public async Task OtherAccountForms_SameAccountRepeated_Throttled(string path)
    {
        await using var app = NewApp();
        var client = NewClient(app);
        var codes = new List<HttpStatusCode>();
        for (var i = 0; i < Defaults.PerAccountPermitLimit + 2; i++)
        {
            codes.Add((await GalleryAppFactory.PostFormAsync(client, path, new()
            {
                ["Input.Email"] = "same@example.test", ["Input.Password"] = "x", ["Input.ConfirmPassword"] = "y",
            })).StatusCode);
        }
        Assert.DoesNotContain(HttpStatusCode.TooManyRequests, codes.Take(Defaults.PerAccountPermitLimit));
        Assert.Equal(HttpStatusCode.TooManyRequests, codes[^1]);
    }

    [Fact]
    public async Task ConfirmEmailLinks_OneAccountGuessed_Throttled_PageViewsNotCounted()
    {
        await using var app = NewApp();
        var client = NewClient(app);
        for (var i = 0; i < 50; i++) Assert.NotEqual(HttpStatusCode.TooManyRequests, (await client.GetAsync("/Account/Login", TestContext.Current.CancellationToken)).StatusCode);

        var codes = new List<HttpStatusCode>();
        for (var i = 0; i < Defaults.PerAccountPermitLimit + 1; i++)
            codes.Add((await client.GetAsync($"/Account/ConfirmEmail?userId=someone&code=guess{i}", TestContext.Current.CancellationToken)).StatusCode);
        Assert.Equal(HttpStatusCode.TooManyRequests, codes[^1]);
        Assert.DoesNotContain(HttpStatusCode.TooManyRequests, codes.SkipLast(1));
    }
}
