using System.Security.Claims;
using DiffusionGallery.Web.Accounts;
using DiffusionGallery.Web.Options;
using Microsoft.AspNetCore.Components.Authorization;
using Microsoft.Extensions.Logging.Abstractions;
using MsOptions = Microsoft.Extensions.Options.Options;

namespace DiffusionGallery.Web.Tests.Generation;

public sealed class PerUserCircuitLimiterTests
{
    private sealed class User(string? id) : AuthenticationStateProvider
    {
        public override Task<AuthenticationState> GetAuthenticationStateAsync() => Task.FromResult(new AuthenticationState(new ClaimsPrincipal(
            id is null ? new ClaimsIdentity() : new ClaimsIdentity([new Claim(ClaimTypes.NameIdentifier, id)], "test"))));
    }

    private static PerUserCircuitLimiter Limiter(CircuitRegistry registry, string? userId, int max = 2) =>
        new(new User(userId), registry, MsOptions.Create(new AuthOptions { MaxCircuitsPerUser = max }), NullLogger<PerUserCircuitLimiter>.Instance);

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task CircuitOverTheCap_IsRefused_AndClosingOneFreesASlot()
    {
        var registry = new CircuitRegistry();
        var first = Limiter(registry, "u");
        var second = Limiter(registry, "u");
        await first.OnCircuitOpenedAsync(null!, Ct);
        await second.OnCircuitOpenedAsync(null!, Ct);

        var refused = await Assert.ThrowsAsync<InvalidOperationException>(() => Limiter(registry, "u").OnCircuitOpenedAsync(null!, Ct));
        Assert.Contains("at most 2", refused.Message);
        await Limiter(registry, "someone else").OnCircuitOpenedAsync(null!, Ct); // per user, not global

        await first.OnCircuitClosedAsync(null!, Ct);
        await first.OnCircuitClosedAsync(null!, Ct); // closing twice releases once
        Assert.Equal(1, registry.OpenFor("u"));
        await Limiter(registry, "u").OnCircuitOpenedAsync(null!, Ct);
        Assert.Equal(2, registry.OpenFor("u"));
    }

    [Fact]
    public async Task AnonymousCircuits_AreNotCounted()
    {
        var registry = new CircuitRegistry();
        for (var i = 0; i < 5; i++) await Limiter(registry, null, max: 1).OnCircuitOpenedAsync(null!, Ct);
        Assert.Equal(0, registry.OpenFor(""));
    }
}
