using System.Diagnostics;
using System.Net;
using DiffusionGallery.Web.Accounts.Sessions;
using DiffusionGallery.Web.Accounts;
using DiffusionGallery.Web.Tests.Integration;
using Microsoft.AspNetCore.SignalR;
using Microsoft.AspNetCore.SignalR.Client;
using Microsoft.AspNetCore.Http.Connections;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.AspNetCore.TestHost;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace DiffusionGallery.Web.Tests.Accounts;

/// <summary>
/// Revoking a token, signing out, changing the password and deleting the account end open hub connections (at the
/// next call at once, idle ones within 30 s). The default re-check interval (10 s) is used, as in production.
/// </summary>
public sealed class SessionEndTests(GenerationFlowTests.AppFixture fixture) : IClassFixture<GenerationFlowTests.AppFixture>
{
    private static readonly TimeSpan Promise = TimeSpan.FromSeconds(30);
    private GalleryAppFactory App => fixture.App;

    private static string NewEmail() => $"session-{Guid.NewGuid():N}@example.test";

    private static Task<Exception?> ClosedAsync(HubConnection connection)
    {
        var closed = new TaskCompletionSource<Exception?>(TaskCreationOptions.RunContinuationsAsynchronously);
        connection.Closed += error => { closed.TrySetResult(error); return Task.CompletedTask; };
        return closed.Task;
    }

    private async Task<int> JobCountAsync(string userId)
    {
        await using var db = App.CreateDbContext();
        return await db.GenerationJobs.CountAsync(j => j.OwnerId == userId);
    }

    private async Task<(HttpClient Client, CookieContainer Cookies, string UserId)> RegisterWithCookiesAsync(string email)
    {
        var cookies = new CookieContainer();
        var client = App.CreateClientWithCookies(cookies);
        var response = await GalleryAppFactory.PostFormAsync(client, "/Account/Register", new()
        {
            ["Input.Email"] = email, ["Input.Password"] = GalleryAppFactory.Password, ["Input.ConfirmPassword"] = GalleryAppFactory.Password,
        });
        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        await using var db = App.CreateDbContext();
        return (client, cookies, (await db.Users.SingleAsync(u => u.Email == email)).Id);
    }

    [Fact]
    public async Task RevokedToken_NextSubmitOnOpenConnection_RefusedAtOnce_NoJob_ConnectionClosed()
    {
        var (_, userId) = await App.RegisterAsync(NewEmail());
        var created = await App.Services.GetRequiredService<PersonalAccessTokenService>().CreateAsync(userId, "to revoke", TestContext.Current.CancellationToken);
        // Over a WebSocket, as browsers and most clients connect: the token is checked once, at the upgrade.
        await using var hub = await App.ConnectHubAsync(created.Secret, HttpTransportType.WebSockets);
        var closed = ClosedAsync(hub);
        await hub.InvokeAsync<bool>("Cancel", Guid.NewGuid(), TestContext.Current.CancellationToken); // the connection works before

        Assert.True(await App.Services.GetRequiredService<PersonalAccessTokenService>().RevokeAsync(userId, created.Token.Id, TestContext.Current.CancellationToken));
        var refused = await Assert.ThrowsAnyAsync<Exception>(() => hub.InvokeAsync<object>("Submit", new { prompt = "a red circle", steps = 4, seed = 1 }, TestContext.Current.CancellationToken));

        Assert.True(refused is HubException { Message: var message } && message.Contains("session has ended", StringComparison.Ordinal), refused.ToString());
        Assert.Equal(0, await JobCountAsync(userId));
        await closed.WaitAsync(Promise, TestContext.Current.CancellationToken);
    }

    [Fact]
    public async Task RevokedToken_IdleConnection_ClosedWithin30Seconds_AndCannotReconnect()
    {
        var (_, userId) = await App.RegisterAsync(NewEmail());
        var created = await App.Services.GetRequiredService<PersonalAccessTokenService>().CreateAsync(userId, "to revoke", TestContext.Current.CancellationToken);
        await using var hub = await App.ConnectHubAsync(created.Secret, HttpTransportType.WebSockets);
        var closed = ClosedAsync(hub);

        var clock = Stopwatch.StartNew();
        await App.Services.GetRequiredService<PersonalAccessTokenService>().RevokeAsync(userId, created.Token.Id, TestContext.Current.CancellationToken);
        await closed.WaitAsync(Promise, TestContext.Current.CancellationToken);

        Assert.True(clock.Elapsed < Promise, $"closed after {clock.Elapsed}");
        await Assert.ThrowsAnyAsync<Exception>(() => App.ConnectHubAsync(created.Secret));
    }

    [Fact]
    public async Task SignOutElsewhere_EndsCookieHubConnectionWithin30Seconds_TokenConnectionGoesOn()
    {
        var email = NewEmail();
        var (_, cookies, userId) = await RegisterWithCookiesAsync(email);
        await using var cookieHub = await App.ConnectHubWithCookiesAsync(cookies);
        var cookieClosed = ClosedAsync(cookieHub);
        await using var tokenHub = await HubTestClient.ConnectAsync(App, await App.CreateTokenAsync(userId));

        // A second browser of the same user signs out.
        var other = App.CreateClientWithCookies(new CookieContainer());
        Assert.Equal(HttpStatusCode.Redirect, (await GalleryAppFactory.PostFormAsync(other, "/Account/Login",
            new() { ["Input.Email"] = email, ["Input.Password"] = GalleryAppFactory.Password })).StatusCode);
        Assert.Equal(HttpStatusCode.Redirect, (await PostLogoutAsync(other)).StatusCode);

        var clock = Stopwatch.StartNew();
        await cookieClosed.WaitAsync(Promise, TestContext.Current.CancellationToken);
        Assert.True(clock.Elapsed < Promise);
        // A personal access token is not a browser session: it ends when revoked, not on sign-out.
        Assert.False(await tokenHub.Connection.InvokeAsync<bool>("Cancel", Guid.NewGuid(), TestContext.Current.CancellationToken));
        Assert.Equal(HubConnectionState.Connected, tokenHub.Connection.State);
    }

    private static async Task<HttpResponseMessage> PostLogoutAsync(HttpClient client)
    {
        // The sign-out button is a form on every page (NavMenu); take its antiforgery token from the account page.
        var page = await (await client.GetAsync("/Account/Manage")).Content.ReadAsStringAsync();
        var token = System.Text.RegularExpressions.Regex.Match(page, """name="__RequestVerificationToken" value="([^"]+)" """.TrimEnd()).Groups[1].Value;
        Assert.NotEmpty(token);
        return await client.PostAsync("/Account/Logout", new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["__RequestVerificationToken"] = WebUtility.HtmlDecode(token), ["ReturnUrl"] = "",
        }));
    }

    [Fact]
    public async Task PasswordChange_EndsOtherCookieHubConnection_NextCallRefused()
    {
        var email = NewEmail();
        var (_, cookies, userId) = await RegisterWithCookiesAsync(email);
        await using var hub = await App.ConnectHubWithCookiesAsync(cookies);
        var closed = ClosedAsync(hub);

        var other = App.CreateClientWithCookies(new CookieContainer());
        await GalleryAppFactory.PostFormAsync(other, "/Account/Login", new() { ["Input.Email"] = email, ["Input.Password"] = GalleryAppFactory.Password });
        var change = await GalleryAppFactory.PostFormAsync(other, "/Account/Manage/ChangePassword", new()
        {
            ["Input.OldPassword"] = GalleryAppFactory.Password, ["Input.NewPassword"] = "a brand new passphrase", ["Input.ConfirmPassword"] = "a brand new passphrase",
        });
        Assert.Equal(HttpStatusCode.Redirect, change.StatusCode);

        var refused = await Assert.ThrowsAnyAsync<Exception>(() => hub.InvokeAsync<object>("Submit", new { prompt = "a square", steps = 4 }, TestContext.Current.CancellationToken));
        Assert.Contains("session has ended", refused.Message, StringComparison.Ordinal);
        Assert.Equal(0, await JobCountAsync(userId));
        await closed.WaitAsync(Promise, TestContext.Current.CancellationToken);
    }

    [Fact]
    public async Task AccountDeleted_EndsItsTokenConnectionWithin30Seconds()
    {
        var email = NewEmail();
        var (client, userId) = await App.RegisterAsync(email);
        await using var hub = await App.ConnectHubAsync(await App.CreateTokenAsync(userId), HttpTransportType.WebSockets);
        var closed = ClosedAsync(hub);

        var delete = await GalleryAppFactory.PostFormAsync(client, "/Account/Manage/DeletePersonalData", new() { ["Input.Password"] = GalleryAppFactory.Password });
        Assert.Equal(HttpStatusCode.Redirect, delete.StatusCode);

        await closed.WaitAsync(Promise, TestContext.Current.CancellationToken);
    }

    /// <summary>An extra reason (here: a list of disabled users) ends sessions with one registration line.</summary>
    [Fact]
    public async Task AddedSessionCheck_EndsOpenConnectionsOfTheUsersItNames()
    {
        await using var app = new GalleryAppFactory();
        await using var withCheck = app.WithWebHostBuilder(web => web.ConfigureTestServices(services => services.AddSessionCheck<DisabledUsers>()));
        _ = withCheck.Server;
        var userId = (await RegisterThroughAsync(withCheck, NewEmail()));
        var token = (await withCheck.Services.GetRequiredService<PersonalAccessTokenService>().CreateAsync(userId, "t", TestContext.Current.CancellationToken)).Secret;
        var connection = new HubConnectionBuilder()
            .WithUrl(new Uri(withCheck.Server.BaseAddress, "hubs/generation"), options =>
            {
                options.HttpMessageHandlerFactory = _ => withCheck.Server.CreateHandler();
                options.Transports = Microsoft.AspNetCore.Http.Connections.HttpTransportType.LongPolling;
                options.AccessTokenProvider = () => Task.FromResult<string?>(token);
            }).Build();
        await using var _c = connection;
        await connection.StartAsync(TestContext.Current.CancellationToken);
        var closed = ClosedAsync(connection);

        DisabledUsers.Ids.Add(userId);
        await closed.WaitAsync(Promise, TestContext.Current.CancellationToken);
    }

    private static async Task<string> RegisterThroughAsync(WebApplicationFactory<Program> app, string email)
    {
        var client = app.CreateClient(new WebApplicationFactoryClientOptions { AllowAutoRedirect = false, HandleCookies = true });
        await GalleryAppFactory.PostFormAsync(client, "/Account/Register", new()
        {
            ["Input.Email"] = email, ["Input.Password"] = GalleryAppFactory.Password, ["Input.ConfirmPassword"] = GalleryAppFactory.Password,
        });
        using var scope = app.Services.CreateScope();
        var db = scope.ServiceProvider.GetRequiredService<DiffusionGallery.Web.Data.ApplicationDbContext>();
        return (await db.Users.SingleAsync(u => u.Email == email)).Id;
    }

    private sealed class DisabledUsers : ISessionCheck
    {
        public static readonly System.Collections.Concurrent.ConcurrentBag<string> Ids = [];

        public ValueTask<string?> FindEndReasonAsync(SessionSubject subject, CancellationToken cancellationToken) =>
            ValueTask.FromResult(Ids.Contains(subject.User.Id) ? "the account was disabled" : null);
    }
}
