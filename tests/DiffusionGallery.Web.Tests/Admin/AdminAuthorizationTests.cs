using System.Net;
using System.Net.Http.Json;
using Microsoft.AspNetCore.Mvc.Testing;

namespace DiffusionGallery.Web.Tests.Admin;

/// <summary>Every admin endpoint and page, called directly: 401 signed out, 403 signed in without the Admin role, allowed for an admin.</summary>
public sealed class AdminAuthorizationTests(AdminAppFixture fixture) : IClassFixture<AdminAppFixture>
{
    private static (string Method, string Path)[] Endpoints(string targetUser, string image) =>
    [
        ("GET", "/api/admin/users"),
        ("GET", $"/api/admin/users/{targetUser}"),
        ("PUT", $"/api/admin/users/{targetUser}/quota"),
        ("POST", $"/api/admin/users/{targetUser}/disable"),
        ("POST", $"/api/admin/users/{targetUser}/enable"),
        ("PUT", $"/api/admin/users/{targetUser}/roles"),
        ("DELETE", $"/api/admin/users/{targetUser}/images"),
        ("DELETE", $"/api/admin/images/{image}"),
        ("GET", "/api/admin/usage.csv"),
        ("GET", "/api/admin/audit"),
        ("GET", "/api/admin/audit.csv"),
        ("GET", "/api/admin/dashboard"),
    ];

    private static HttpRequestMessage Request(string method, string path, string targetUser) => new(new HttpMethod(method), path)
    {
        Content = path.EndsWith("/quota") ? JsonContent.Create(new { imagesPerDay = 5 })
            : path.EndsWith("/roles") ? JsonContent.Create(new { roles = new[] { "User" } })
            : null,
    };

    [Fact]
    public async Task EveryAdminEndpoint_Anonymous401_NonAdmin403_NothingChanges()
    {
        var victim = await fixture.RegisterUserAsync("victim");
        var other = await fixture.RegisterUserAsync("other");
        using var anonymous = fixture.App.CreateClient(new WebApplicationFactoryClientOptions { AllowAutoRedirect = false });
        var image = Guid.NewGuid();
        foreach (var (method, path) in Endpoints(victim.Id, image.ToString()))
        {
            var signedOut = await anonymous.SendAsync(Request(method, path, victim.Id));
            Assert.True(signedOut.StatusCode == HttpStatusCode.Unauthorized, $"{method} {path} anonymous: {signedOut.StatusCode}");
            var byCookie = await other.Cookie.SendAsync(Request(method, path, victim.Id));
            Assert.True(byCookie.StatusCode == HttpStatusCode.Forbidden, $"{method} {path} non-admin cookie: {byCookie.StatusCode}");
            var byToken = await other.Token.SendAsync(Request(method, path, victim.Id));
            Assert.True(byToken.StatusCode == HttpStatusCode.Forbidden, $"{method} {path} non-admin token: {byToken.StatusCode}");
        }

        // Nothing the refused calls asked for happened.
        await using var db = fixture.App.CreateDbContext();
        Assert.Null(await db.QuotaPolicies.FindAsync(victim.Id));
        Assert.Null((await db.Users.FindAsync(victim.Id))!.DisabledAt);
    }

    [Fact]
    public async Task EveryAdminEndpoint_Admin_IsServed()
    {
        var victim = await fixture.RegisterUserAsync("served");
        foreach (var (method, path) in Endpoints(victim.Id, Guid.NewGuid().ToString()))
        {
            var response = await fixture.AdminToken.SendAsync(Request(method, path, victim.Id));
            var expected = path.StartsWith("/api/admin/images/") ? HttpStatusCode.NotFound : HttpStatusCode.OK; // an unknown image
            Assert.True(response.StatusCode == expected, $"{method} {path} admin: {response.StatusCode} {await response.Content.ReadAsStringAsync()}");
        }
    }

    [Theory]
    [InlineData("/admin")]
    [InlineData("/admin/users")]
    [InlineData("/admin/audit")]
    public async Task AdminPages_AnonymousToSignIn_NonAdminAccessDenied_AdminRendered(string page)
    {
        using var anonymous = fixture.App.CreateClient(new WebApplicationFactoryClientOptions { AllowAutoRedirect = false });
        var signedOut = await anonymous.GetAsync(page);
        Assert.Equal(HttpStatusCode.Redirect, signedOut.StatusCode);
        Assert.Contains("/Account/Login", signedOut.Headers.Location!.ToString());

        var user = await fixture.RegisterUserAsync("pages");
        var nonAdmin = await user.Cookie.GetAsync(page);
        Assert.Equal(HttpStatusCode.Redirect, nonAdmin.StatusCode);
        Assert.Contains("/Account/AccessDenied", nonAdmin.Headers.Location!.ToString());

        var admin = await fixture.AdminCookie.GetAsync(page);
        Assert.Equal(HttpStatusCode.OK, admin.StatusCode);
        Assert.Contains("Admin · DiffusionGallery", await admin.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task DemotedAdmin_WithAnOldSession_IsRefusedByTheServiceRecheck()
    {
        var second = await fixture.RegisterUserAsync("second-admin");
        Assert.Equal(HttpStatusCode.OK, (await fixture.AdminToken.PutAsJsonAsync($"/api/admin/users/{second.Id}/roles", new { roles = new[] { "Admin" } })).StatusCode);
        using var adminSession = await fixture.SignInAsync(second.Email); // this cookie carries the Admin role claim
        Assert.Equal(HttpStatusCode.OK, (await adminSession.GetAsync("/api/admin/users")).StatusCode);

        Assert.Equal(HttpStatusCode.OK, (await fixture.AdminToken.PutAsJsonAsync($"/api/admin/users/{second.Id}/roles", new { roles = new[] { "User" } })).StatusCode);
        // The cookie still says Admin until it is revalidated, but the service checks the database on every call.
        Assert.Equal(HttpStatusCode.Forbidden, (await adminSession.GetAsync("/api/admin/users")).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await second.Token.GetAsync("/api/admin/users")).StatusCode);
    }
}
