using System.Security.Claims;
using DiffusionGallery.Web.Errors;
using Microsoft.AspNetCore.Components.Authorization;
using Microsoft.AspNetCore.Components.Server.Circuits;
using Microsoft.AspNetCore.SignalR;

namespace DiffusionGallery.Web.Accounts;

/// <summary>
/// The one <see cref="ICurrentUser"/>. Its principal comes from whichever surface opened the scope: a Blazor circuit
/// (<see cref="CurrentUserCircuitHandler"/>, kept up to date when the circuit's authentication state changes), a hub
/// invocation (<see cref="CurrentUserHubFilter"/>), otherwise the HTTP request.
/// </summary>
public sealed class CurrentUser(IHttpContextAccessor http, IServiceProvider services) : ICurrentUser
{
    private static readonly ClaimsPrincipal Anonymous = new(new ClaimsIdentity());
    private ClaimsPrincipal? _principal;

    /// <summary>The principal of the circuit or hub invocation this scope serves (set by the surface, not by callers).</summary>
    public void Use(ClaimsPrincipal principal) => _principal = principal ?? throw new ArgumentNullException(nameof(principal));

    public ClaimsPrincipal Principal => _principal ?? http.HttpContext?.User ?? FromCircuit() ?? Anonymous;

    /// <summary>A circuit whose handler has not run yet: its authentication state, when already known.</summary>
    private ClaimsPrincipal? FromCircuit()
    {
        try
        {
            var state = services.GetService<AuthenticationStateProvider>()?.GetAuthenticationStateAsync();
            return state is { IsCompletedSuccessfully: true } ? state.Result.User : null;
        }
        catch (InvalidOperationException)
        {
            return null; // not a circuit: no authentication state was set
        }
    }

    public string? UserId => Principal.Identity?.IsAuthenticated == true ? Principal.FindFirstValue(ClaimTypes.NameIdentifier) : null;

    public bool IsAuthenticated => UserId is not null;

    public bool IsInRole(string role) => IsAuthenticated && Principal.IsInRole(role);

    public string RequireUserId() => UserId ?? throw new SignInRequiredException("You are signed out. Sign in again to continue.");
}

/// <summary>Gives the circuit's <see cref="CurrentUser"/> the circuit's user, and follows sign-in state changes.</summary>
public sealed class CurrentUserCircuitHandler(CurrentUser currentUser, AuthenticationStateProvider authentication) : CircuitHandler, IDisposable
{
    public override Task OnCircuitOpenedAsync(Circuit circuit, CancellationToken cancellationToken)
    {
        authentication.AuthenticationStateChanged += OnAuthenticationChanged;
        return UpdateAsync(authentication.GetAuthenticationStateAsync());
    }

    public override Task OnConnectionUpAsync(Circuit circuit, CancellationToken cancellationToken) =>
        UpdateAsync(authentication.GetAuthenticationStateAsync());

    private void OnAuthenticationChanged(Task<AuthenticationState> state) => _ = UpdateAsync(state);

    private async Task UpdateAsync(Task<AuthenticationState> state) => currentUser.Use((await state).User);

    public void Dispose() => authentication.AuthenticationStateChanged -= OnAuthenticationChanged;
}

/// <summary>Gives each hub invocation's <see cref="CurrentUser"/> the connection's user (registered per hub, not globally).</summary>
public sealed class CurrentUserHubFilter : IHubFilter
{
    public ValueTask<object?> InvokeMethodAsync(HubInvocationContext invocationContext, Func<HubInvocationContext, ValueTask<object?>> next)
    {
        Set(invocationContext.ServiceProvider, invocationContext.Context.User);
        return next(invocationContext);
    }

    public Task OnConnectedAsync(HubLifetimeContext context, Func<HubLifetimeContext, Task> next)
    {
        Set(context.ServiceProvider, context.Context.User);
        return next(context);
    }

    public Task OnDisconnectedAsync(HubLifetimeContext context, Exception? exception, Func<HubLifetimeContext, Exception?, Task> next)
    {
        Set(context.ServiceProvider, context.Context.User);
        return next(context, exception);
    }

    private static void Set(IServiceProvider services, ClaimsPrincipal? user)
    {
        if (user is not null) services.GetRequiredService<CurrentUser>().Use(user);
    }
}
