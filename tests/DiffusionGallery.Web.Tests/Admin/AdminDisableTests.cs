using System.Net.Http.Json;
using System.Diagnostics;
using System.Net;
using DiffusionGallery.Web.Admin;
using DiffusionGallery.Web.Tests.Integration;
using Microsoft.AspNetCore.SignalR;
using Microsoft.AspNetCore.SignalR.Client;
using Microsoft.EntityFrameworkCore;

namespace DiffusionGallery.Web.Tests.Admin;

public sealed class AdminDisableTests(AdminAppFixture fixture, ITestOutputHelper output) : IClassFixture<AdminAppFixture>
{
    [Fact]
    public async Task Disable_TokensRefused_OpenHubCut_SignInRefused_EnableRestores()
    {
        var b = await fixture.RegisterUserAsync("disabled");
        await using var hub = await fixture.App.ConnectHubAsync(b.Secret);
        var closed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        hub.Closed += _ => { closed.TrySetResult(); return Task.CompletedTask; };
        Assert.Equal(HttpStatusCode.OK, (await b.Token.GetAsync("/api/images")).StatusCode);

        var clock = Stopwatch.StartNew();
        Assert.Equal(HttpStatusCode.OK, (await fixture.AdminToken.PostAsync($"/api/admin/users/{b.Id}/disable", null)).StatusCode);
        await closed.Task.WaitAsync(TimeSpan.FromSeconds(30));
        output.WriteLine($"hub connection closed {clock.Elapsed.TotalSeconds:F2} s after the admin's call returned");

        Assert.Equal(HttpStatusCode.Unauthorized, (await b.Token.GetAsync("/api/images")).StatusCode);
        // The cookie session is only revalidated later, but it has lost the right to generate at once.
        var bySession = await b.Cookie.PostAsJsonAsync("/api/generations", new { prompt = "a red circle", steps = 2 });
        Assert.True(bySession.StatusCode is HttpStatusCode.Forbidden or HttpStatusCode.Unauthorized, $"cookie submission after disable: {bySession.StatusCode}");
        var reconnect = await Assert.ThrowsAnyAsync<HttpRequestException>(() => fixture.App.ConnectHubAsync(b.Secret));
        Assert.Equal(HttpStatusCode.Unauthorized, reconnect.StatusCode);
        await Assert.ThrowsAsync<InvalidOperationException>(() => fixture.SignInAsync(b.Email)); // Identity sends a disabled account to Lockout

        await using (var db = fixture.App.CreateDbContext())
        {
            var user = await db.Users.SingleAsync(u => u.Id == b.Id);
            Assert.NotNull(user.DisabledAt);
            Assert.Single(await db.Set<AuditEntry>().Where(a => a.Action == "user.disable" && a.TargetId == b.Id).ToListAsync());
        }

        Assert.Equal(HttpStatusCode.OK, (await fixture.AdminToken.PostAsync($"/api/admin/users/{b.Id}/enable", null)).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await b.Token.GetAsync("/api/images")).StatusCode);
        using var again = await fixture.SignInAsync(b.Email);
        await using var hubAgain = await fixture.App.ConnectHubAsync(b.Secret);
        Assert.Equal(HubConnectionState.Connected, hubAgain.State);
    }

    [Fact]
    public async Task DisabledElsewhere_InTheDatabase_OpenHubCutWithin30Seconds()
    {
        var b = await fixture.RegisterUserAsync("db-disabled");
        await using var hub = await fixture.App.ConnectHubAsync(b.Secret);
        var closed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        hub.Closed += _ => { closed.TrySetResult(); return Task.CompletedTask; };

        // Another instance (or an operator with SQL) disables the account: no in-process event reaches this one.
        await using (var db = fixture.App.CreateDbContext())
            await db.Users.Where(u => u.Id == b.Id).ExecuteUpdateAsync(s => s.SetProperty(u => u.DisabledAt, DateTimeOffset.UtcNow));
        var clock = Stopwatch.StartNew();
        await closed.Task.WaitAsync(TimeSpan.FromSeconds(30));
        output.WriteLine($"hub connection closed {clock.Elapsed.TotalSeconds:F1} s after the database change");
        Assert.InRange(clock.Elapsed.TotalSeconds, 0, 30);
    }

    [Fact]
    public async Task DisabledUser_HubInvocation_IsRefusedWithTheMessage()
    {
        var b = await fixture.RegisterUserAsync("hub-refused");
        await using var hub = await fixture.App.ConnectHubAsync(b.Secret);
        var access = (DisabledUserAccessCheck)fixture.App.Services.GetService(typeof(DisabledUserAccessCheck))!;
        var filter = (UserAccessHubFilter)fixture.App.Services.GetService(typeof(UserAccessHubFilter))!;
        for (var i = 0; i < 50 && filter.ConnectionCount(b.Id) == 0; i++) await Task.Delay(100); // OnConnected runs after the handshake
        Assert.Equal(1, filter.ConnectionCount(b.Id));

        await using (var db = fixture.App.CreateDbContext())
            await db.Users.Where(u => u.Id == b.Id).ExecuteUpdateAsync(s => s.SetProperty(u => u.DisabledAt, DateTimeOffset.UtcNow));
        // Without the sweep, the cached answer expires after MaxAge; the next call is refused.
        await Task.Delay(DisabledUserAccessCheck.MaxAge + TimeSpan.FromSeconds(1));
        Assert.False(await access.IsAllowedAsync(b.Id));
        var error = await Assert.ThrowsAnyAsync<Exception>(() => hub.InvokeAsync<object>("Subscribe", Guid.NewGuid()));
        Assert.True(error is HubException { Message: var m } && (m.Contains(UserAccessHubFilter.DisabledMessage) || m.Contains(DisabledAccountSessionCheck.Reason)) || hub.State != HubConnectionState.Connected,
            $"unexpected: {error.GetType().Name} {error.Message}");
        await using var db2 = fixture.App.CreateDbContext();
        var refused = await db2.Set<AuditEntry>().Where(a => a.Action == "access.refused" && a.TargetId == b.Id).ToListAsync();
        // The session guard refused the call (or a sweep cut the connection first): either way it is recorded.
        Assert.Contains(refused, e => e.Details!.Contains("Subscribe") || e.Details.Contains("cut") || e.Details.Contains("account disabled"));
    }

    [Fact]
    public async Task SignInAndSignOut_AreSecurityEventsInTheAuditLog()
    {
        var b = await fixture.RegisterUserAsync("signin-audit");
        using var session = await fixture.SignInAsync(b.Email);
        await using var db = fixture.App.CreateDbContext();
        var signIns = await db.Set<AuditEntry>().Where(a => a.Action == "account.sign-in" && a.ActorId == b.Id).ToListAsync();
        Assert.Equal(2, signIns.Count); // registration signs in, then the explicit sign-in
        Assert.All(signIns, e => Assert.Equal(b.Email, e.ActorEmail));
    }
}
