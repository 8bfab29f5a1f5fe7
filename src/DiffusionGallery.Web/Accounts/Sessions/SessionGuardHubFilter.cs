using Microsoft.AspNetCore.SignalR;

namespace DiffusionGallery.Web.Accounts.Sessions;

/// <summary>
/// Re-checks the caller's session before every hub method (a revoked token or a signed-out cookie is refused at once)
/// and records open connections for <see cref="SessionSweeper"/>, which closes those that sit idle.
/// </summary>
public sealed class SessionGuardHubFilter(SessionValidator validator, OpenHubConnections connections, ILogger<SessionGuardHubFilter> logger) : IHubFilter
{
    /// <summary>How long a refused connection stays open so that the refusal itself reaches the client.</summary>
    internal static readonly TimeSpan AbortDelay = TimeSpan.FromMilliseconds(500);

    public async ValueTask<object?> InvokeMethodAsync(HubInvocationContext invocationContext, Func<HubInvocationContext, ValueTask<object?>> next)
    {
        var context = invocationContext.Context;
        if (context.User is { } user && await validator.FindEndReasonAsync(user, context.ConnectionAborted) is { } reason)
        {
            logger.LogInformation("Refused {Method} on hub connection {ConnectionId} of user {UserId} and closed it: {Reason}",
                invocationContext.HubMethodName, context.ConnectionId, context.UserIdentifier, reason);
            connections.Remove(context.ConnectionId);
            _ = AbortSoonAsync(context);
            throw new HubException($"Your session has ended ({reason}). Sign in again.");
        }
        return await next(invocationContext);
    }

    public async Task OnConnectedAsync(HubLifetimeContext context, Func<HubLifetimeContext, Task> next)
    {
        connections.Add(context.Context);
        await next(context);
    }

    public async Task OnDisconnectedAsync(HubLifetimeContext context, Exception? exception, Func<HubLifetimeContext, Exception?, Task> next)
    {
        connections.Remove(context.Context.ConnectionId);
        await next(context, exception);
    }

    private static async Task AbortSoonAsync(HubCallerContext context)
    {
        await Task.Delay(AbortDelay).ConfigureAwait(false);
        context.Abort();
    }
}
