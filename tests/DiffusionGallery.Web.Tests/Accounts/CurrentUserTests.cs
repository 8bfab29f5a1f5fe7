using System.Security.Claims;
using DiffusionGallery.Web.Accounts;
using DiffusionGallery.Web.Errors;
using Microsoft.AspNetCore.Components.Authorization;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;

namespace DiffusionGallery.Web.Tests.Accounts;

/// <summary>One <see cref="CurrentUser"/> for every surface: an HTTP request, a hub invocation (explicit principal), a circuit.</summary>
public sealed class CurrentUserTests
{
    private static ClaimsPrincipal Signed(string id, params string[] roles) => new(new ClaimsIdentity(
        [new Claim(ClaimTypes.NameIdentifier, id), .. roles.Select(r => new Claim(ClaimTypes.Role, r))], "test"));

    private static readonly ClaimsPrincipal Anonymous = new(new ClaimsIdentity());

    private sealed class SettableAuthentication : AuthenticationStateProvider
    {
        private ClaimsPrincipal _user = Anonymous;
        public override Task<AuthenticationState> GetAuthenticationStateAsync() => Task.FromResult(new AuthenticationState(_user));
        public void Set(ClaimsPrincipal user)
        {
            _user = user;
            NotifyAuthenticationStateChanged(GetAuthenticationStateAsync());
        }
    }

    private static CurrentUser Create(HttpContext? http = null, AuthenticationStateProvider? circuit = null)
    {
        var services = new ServiceCollection();
        if (circuit is not null) services.AddSingleton(circuit);
        return new CurrentUser(new HttpContextAccessor { HttpContext = http }, services.BuildServiceProvider());
    }

    [Fact]
    public void HttpRequest_UserComesFromTheRequest()
    {
        var user = Create(new DefaultHttpContext { User = Signed("u1", "Admin") });
        Assert.Equal("u1", user.UserId);
        Assert.True(user.IsAuthenticated);
        Assert.True(user.IsInRole("Admin"));
        Assert.False(user.IsInRole("User"));
        Assert.Equal("u1", user.RequireUserId());
    }

    [Fact]
    public void Anonymous_RequireUserIdThrowsSignInRequired()
    {
        var user = Create(new DefaultHttpContext { User = Anonymous });
        Assert.Null(user.UserId);
        Assert.False(user.IsAuthenticated);
        Assert.False(user.IsInRole("Admin"));
        Assert.Throws<SignInRequiredException>(() => user.RequireUserId());
        Assert.Throws<SignInRequiredException>(() => Create().RequireUserId()); // no request, no circuit
    }

    [Fact]
    public void HubInvocation_ExplicitPrincipalWinsOverTheRequest()
    {
        var user = Create(new DefaultHttpContext { User = Signed("from-request") });
        user.Use(Signed("from-hub-connection"));
        Assert.Equal("from-hub-connection", user.UserId);
    }

    [Fact]
    public async Task Circuit_HandlerSetsTheUser_AndFollowsSignOut()
    {
        var authentication = new SettableAuthentication();
        authentication.Set(Signed("circuit-user"));
        var user = Create();
        using var handler = new CurrentUserCircuitHandler(user, authentication);

        await handler.OnCircuitOpenedAsync(null!, TestContext.Current.CancellationToken);
        Assert.Equal("circuit-user", user.UserId);

        authentication.Set(Anonymous); // e.g. revalidation found the security stamp changed
        Assert.Null(user.UserId);
        Assert.Throws<SignInRequiredException>(() => user.RequireUserId());
    }

    [Fact]
    public void Circuit_BeforeTheHandlerRan_ReadsTheCircuitsAuthenticationState()
    {
        var authentication = new SettableAuthentication();
        authentication.Set(Signed("early"));
        Assert.Equal("early", Create(circuit: authentication).UserId);
    }
}
