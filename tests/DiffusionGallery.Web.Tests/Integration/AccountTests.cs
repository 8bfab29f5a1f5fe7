using System.Net;
using DiffusionGallery.Web.Accounts;
using DiffusionGallery.Web.Data.Entities;
using DiffusionGallery.Web.Options;
using DiffusionGallery.Web.Gallery;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace DiffusionGallery.Web.Tests.Integration;

public sealed class AccountTests(GenerationFlowTests.AppFixture fixture) : IClassFixture<GenerationFlowTests.AppFixture>
{
    private GalleryAppFactory App => fixture.App;

    private HttpClient NewClient() => App.CreateClient(new WebApplicationFactoryClientOptions { AllowAutoRedirect = false, HandleCookies = true });

    private static Task<HttpResponseMessage> LoginAsync(HttpClient client, string email, string password) =>
        GalleryAppFactory.PostFormAsync(client, "/Account/Login", new() { ["Input.Email"] = email, ["Input.Password"] = password });

    [Fact]
    public async Task Lockout_AfterFiveFailures_CorrectPasswordRefused()
    {
        var email = $"lock-{Guid.NewGuid():N}@example.test";
        await App.RegisterAsync(email);
        var client = NewClient();
        for (var i = 0; i < 6; i++) await LoginAsync(client, email, "wrong password " + i);

        var response = await LoginAsync(client, email, GalleryAppFactory.Password);

        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        Assert.Contains("Account/Lockout", response.Headers.Location!.OriginalString);
        Assert.DoesNotContain(response.Headers.TryGetValues("Set-Cookie", out var cookies) ? cookies : [], c => c.StartsWith(".AspNetCore.Identity.Application=", StringComparison.Ordinal) && !c.Contains("expires=Thu, 01 Jan 1970"));
    }

    [Fact]
    public async Task Login_CorrectPassword_SignsIn()
    {
        var email = $"login-{Guid.NewGuid():N}@example.test";
        await App.RegisterAsync(email);
        var client = NewClient();
        var response = await LoginAsync(client, email, GalleryAppFactory.Password);
        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/api/images")).StatusCode);
    }

    [Theory]
    [InlineData("short77", false)]
    [InlineData("lowercase passphrase", true)]
    public async Task PasswordPolicy_EightCharactersNoCompositionRules(string password, bool accepted)
    {
        var email = $"pw-{Guid.NewGuid():N}@example.test";
        var client = NewClient();
        var response = await GalleryAppFactory.PostFormAsync(client, "/Account/Register", new()
        {
            ["Input.Email"] = email, ["Input.Password"] = password, ["Input.ConfirmPassword"] = password,
        });
        await using var db = App.CreateDbContext();
        Assert.Equal(accepted, await db.Users.AnyAsync(u => u.Email == email));
        Assert.Equal(accepted ? HttpStatusCode.Redirect : HttpStatusCode.OK, response.StatusCode);
    }

    [Fact]
    public async Task ShortPassword_TheMessageShowsOnce_UnderTheField()
    {
        var response = await GalleryAppFactory.PostFormAsync(NewClient(), "/Account/Register", new()
        {
            ["Input.Email"] = $"once-{Guid.NewGuid():N}@example.test", ["Input.Password"] = "short", ["Input.ConfirmPassword"] = "short",
        });
        var html = await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken);

        const string message = "The Password must be at least 8 and at most 128 characters long.";
        Assert.Single(System.Text.RegularExpressions.Regex.Matches(html, System.Text.RegularExpressions.Regex.Escape(message)));
        // The field's own message, after the password input (the summary lists only errors of no one field).
        Assert.True(html.IndexOf($"<div class=\"text-danger\">{message}</div>", StringComparison.Ordinal) > html.IndexOf("id=\"Input.Password\"", StringComparison.Ordinal));
    }

    [Fact]
    public async Task AccessDenied_ExplainsAndLinksHome_SignedInOffersAnotherAccount()
    {
        var anonymous = await NewClient().GetStringAsync("/Account/AccessDenied", TestContext.Current.CancellationToken);
        Assert.Contains("data-testid=\"home-link\"", anonymous, StringComparison.Ordinal);
        Assert.Contains("data-testid=\"sign-in-link\"", anonymous, StringComparison.Ordinal);

        var email = $"denied-{Guid.NewGuid():N}@example.test";
        var (client, _) = await App.RegisterAsync(email);
        var signedIn = await client.GetStringAsync("/Account/AccessDenied", TestContext.Current.CancellationToken);
        Assert.Contains(email, signedIn, StringComparison.Ordinal);
        Assert.Contains("data-testid=\"home-link\"", signedIn, StringComparison.Ordinal);
        Assert.Contains("Sign in as someone else", signedIn, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Password64Characters_Accepted()
    {
        var (client, _) = await App.RegisterAsync($"long-{Guid.NewGuid():N}@example.test", new string('p', 64));
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/api/images")).StatusCode);
    }

    [Fact]
    public async Task ChangePassword_NewOneWorks_OldOneRefused()
    {
        var email = $"change-{Guid.NewGuid():N}@example.test";
        var (client, _) = await App.RegisterAsync(email);
        const string newPassword = "an entirely new passphrase";

        var change = await GalleryAppFactory.PostFormAsync(client, "/Account/Manage/ChangePassword", new()
        {
            ["Input.OldPassword"] = GalleryAppFactory.Password, ["Input.NewPassword"] = newPassword, ["Input.ConfirmPassword"] = newPassword,
        });
        Assert.Equal(HttpStatusCode.Redirect, change.StatusCode);

        var withOld = await LoginAsync(NewClient(), email, GalleryAppFactory.Password);
        Assert.Equal(HttpStatusCode.OK, withOld.StatusCode);
        Assert.Contains("Invalid login attempt", await withOld.Content.ReadAsStringAsync());
        var fresh = NewClient();
        Assert.Equal(HttpStatusCode.Redirect, (await LoginAsync(fresh, email, newPassword)).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await fresh.GetAsync("/api/images")).StatusCode);
    }

    [Fact]
    public async Task AuthenticatorSetup_ShowsAScannableQrCodeOfTheKey_UnderOurName_NotTheTemplatesPlaceholder()
    {
        var (client, _) = await App.RegisterAsync($"2fa-{Guid.NewGuid():N}@example.test");

        var html = await (await client.GetAsync("/Account/Manage/EnableAuthenticator")).Content.ReadAsStringAsync();

        var qr = System.Text.RegularExpressions.Regex.Match(html, "data-testid=\"authenticator-qr\"[^>]*>(?<svg><svg.*?</svg>)", System.Text.RegularExpressions.RegexOptions.Singleline);
        Assert.True(qr.Success, "no QR code on the page");
        Assert.True(qr.Groups["svg"].Value.Length > 2000, "the SVG draws no modules");
        Assert.DoesNotContain("enable QR code generation", html);
        var key = System.Text.RegularExpressions.Regex.Match(html, "data-testid=\"authenticator-key\">([a-z0-9 ]+)<").Groups[1].Value.Replace(" ", "");
        Assert.Equal(32, key.Length);
        // What the QR code holds: the otpauth URI with that key, issued by DiffusionGallery.
        var uri = $"otpauth://totp/DiffusionGallery:x?secret={key.ToUpperInvariant()}&issuer=DiffusionGallery&digits=6";
        Assert.StartsWith("<svg", DiffusionGallery.Web.Accounts.AuthenticatorQrCode.Svg(uri));
        Assert.NotEqual(DiffusionGallery.Web.Accounts.AuthenticatorQrCode.Svg(uri), DiffusionGallery.Web.Accounts.AuthenticatorQrCode.Svg(uri + "0"));
    }

    [Fact]
    public async Task SignOut_EndsTheCookieSession()
    {
        var (client, _) = await App.RegisterAsync($"out-{Guid.NewGuid():N}@example.test");
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/api/images")).StatusCode);
        var home = await (await client.GetAsync("/Account/Manage")).Content.ReadAsStringAsync();
        var token = System.Text.RegularExpressions.Regex.Match(home, "name=\"__RequestVerificationToken\"[^>]*value=\"([^\"]+)\"").Groups[1].Value;
        var logout = await client.PostAsync("/Account/Logout", new FormUrlEncodedContent(new Dictionary<string, string> { ["__RequestVerificationToken"] = token, ["ReturnUrl"] = "/" }));
        Assert.Equal(HttpStatusCode.Redirect, logout.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await client.GetAsync("/api/images")).StatusCode);
    }

    [Fact]
    public async Task LoginPost_WithoutAntiforgeryToken_Is400()
    {
        var client = NewClient();
        var response = await GalleryAppFactory.PostFormAsync(client, "/Account/Login", new() { ["Input.Email"] = "a@b.test", ["Input.Password"] = "whatever1" }, includeAntiforgery: false);
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
    }

    [Fact]
    public async Task Roles_FirstAccountAdmin_LaterAccountsUser()
    {
        // The fixture's first registration may come from any test; the earliest user must be the only Admin.
        await App.RegisterAsync($"role-{Guid.NewGuid():N}@example.test");
        var (_, later) = await App.RegisterAsync($"role-{Guid.NewGuid():N}@example.test");
        await using var db = App.CreateDbContext();
        var first = await db.Users.OrderBy(u => u.CreatedAt).FirstAsync();
        Assert.True(await App.IsInRoleAsync(first.Id, AccountRoles.Admin));
        Assert.True(await App.IsInRoleAsync(later, AccountRoles.User));
        Assert.False(await App.IsInRoleAsync(later, AccountRoles.Admin));
    }

    [Fact]
    public async Task DeleteAccount_RemovesImagesFilesAndRows()
    {
        var (client, userId) = await App.RegisterAsync($"delete-{Guid.NewGuid():N}@example.test");
        await using var hub = await HubTestClient.ConnectAsync(App, await App.CreateTokenAsync(userId));
        var final = await hub.WaitFinishedAsync(await hub.SubmitAsync(new { prompt = "a circle", steps = 3, seed = 2 }));
        var imageId = Assert.Single(final.ImageIds);
        var store = App.Services.GetRequiredService<ImageStore>();
        Assert.True(File.Exists(store.GetImagePath(imageId)));

        var response = await GalleryAppFactory.PostFormAsync(client, "/Account/Manage/DeletePersonalData", new() { ["Input.Password"] = GalleryAppFactory.Password });

        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        Assert.False(File.Exists(store.GetImagePath(imageId)));
        Assert.False(File.Exists(store.GetThumbnailPath(imageId)));
        await using var db = App.CreateDbContext();
        Assert.False(await db.Users.AnyAsync(u => u.Id == userId));
        Assert.False(await db.GeneratedImages.AnyAsync(i => i.OwnerId == userId));
        Assert.False(await db.GenerationJobs.AnyAsync(j => j.OwnerId == userId));
    }

    [Fact]
    public void CircuitAndHubLimits_AreTheDocumentedValues()
    {
        var circuit = App.Services.GetRequiredService<IOptions<Microsoft.AspNetCore.Components.Server.CircuitOptions>>().Value;
        Assert.Equal(100, circuit.DisconnectedCircuitMaxRetained);
        Assert.Equal(TimeSpan.FromMinutes(3), circuit.DisconnectedCircuitRetentionPeriod);
        Assert.Equal(TimeSpan.FromMinutes(1), circuit.JSInteropDefaultCallTimeout);
        Assert.Equal(10, circuit.MaxBufferedUnacknowledgedRenderBatches);
        var hub = App.Services.GetRequiredService<IOptions<Microsoft.AspNetCore.SignalR.HubOptions>>().Value;
        Assert.Equal(32 * 1024, hub.MaximumReceiveMessageSize);
    }

    [Fact]
    public async Task Sqlite_UsesWalBusyTimeoutAndForeignKeys()
    {
        await using var db = App.CreateDbContext();
        await db.Database.OpenConnectionAsync();
        var connection = db.Database.GetDbConnection();
        async Task<string> Pragma(string name)
        {
            await using var command = connection.CreateCommand();
            command.CommandText = $"PRAGMA {name};";
            return Convert.ToString(await command.ExecuteScalarAsync())!;
        }
        Assert.Equal("wal", await Pragma("journal_mode"));
        Assert.Equal("1", await Pragma("foreign_keys"));
        Assert.Equal("5000", await Pragma("busy_timeout"));
    }

    [Fact]
    public async Task RootFiles_AppsettingsAndWwwrootAreTheOnesUsed()
    {
        using var rootSettings = System.Text.Json.JsonDocument.Parse(await File.ReadAllTextAsync(Path.Combine(Support.RepoPaths.Root, "appsettings.json")));
        // A key only the root file has (no options default), so equality proves the file was read.
        var efLogLevel = rootSettings.RootElement.GetProperty("Logging").GetProperty("LogLevel").GetProperty("Microsoft.EntityFrameworkCore.Database.Command").GetString();
        Assert.Equal(efLogLevel, App.Services.GetRequiredService<Microsoft.Extensions.Configuration.IConfiguration>()["Logging:LogLevel:Microsoft.EntityFrameworkCore.Database.Command"]);
        // One limit, one value: the code default and the shipped file agree.
        Assert.Equal(new GenerationOptions().MaxSteps, rootSettings.RootElement.GetProperty("Generation").GetProperty("MaxSteps").GetInt32());
        Assert.Equal(100, App.Services.GetRequiredService<IOptions<GenerationOptions>>().Value.MaxSteps);

        using var client = App.CreateClient();
        var css = await client.GetStringAsync("/app.css");
        Assert.Equal(await File.ReadAllTextAsync(Path.Combine(Support.RepoPaths.Root, "wwwroot", "app.css")), css);
        var home = await client.GetStringAsync("/");
        Assert.Contains("_content/MudBlazor/MudBlazor.min", home);
    }
}
