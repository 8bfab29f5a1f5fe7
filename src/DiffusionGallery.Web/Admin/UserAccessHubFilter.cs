using System.Collections.Concurrent;
using System.Security.Claims;
using Microsoft.AspNetCore.SignalR;

namespace DiffusionGallery.Web.Admin;

/// <summary>
/// For every hub: a disabled account cannot connect, every method call it makes is refused, and its open
/// connections are aborted the moment an admin disables it.
/// </summary>
public sealed class UserAccessHubFilter : IHubFilter, IDisposable
{
    public const string DisabledMessage = "Your account has been disabled.";

    private readonly IUserAccessCheck _access;
    private readonly AuditLog _audit;
    private readonly DisabledUserAccessCheck? _events;
    private readonly ConcurrentDictionary<string, ConcurrentDictionary<string, HubCallerContext>> _connections = new(StringComparer.Ordinal);

    public UserAccessHubFilter(IUserAccessCheck access, AuditLog audit)
    {
        _access = access;
        _audit = audit;
        _events = access as DisabledUserAccessCheck;
        if (_events is not null) _events.Disabled += AbortConnectionsOf;
    }

    public int ConnectionCount(string userId) => _connections.TryGetValue(userId, out var set) ? set.Count : 0;

    public async ValueTask<object?> InvokeMethodAsync(HubInvocationContext invocationContext, Func<HubInvocationContext, ValueTask<object?>> next)
    {
        if (UserId(invocationContext.Context) is { } userId && !await _access.IsAllowedAsync(userId, invocationContext.Context.ConnectionAborted))
        {
            invocationContext.Context.Abort();
            await RecordRefusalAsync(invocationContext.Context, userId, $"hub call {invocationContext.HubMethodName} refused: account disabled");
            throw new HubException(DisabledMessage);
        }
        return await next(invocationContext);
    }

    public async Task OnConnectedAsync(HubLifetimeContext context, Func<HubLifetimeContext, Task> next)
    {
        if (UserId(context.Context) is { } userId)
        {
            if (!await _access.IsAllowedAsync(userId, context.Context.ConnectionAborted))
            {
                await RecordRefusalAsync(context.Context, userId, "hub connection refused: account disabled");
                throw new HubException(DisabledMessage);
            }
            _connections.GetOrAdd(userId, _ => new(StringComparer.Ordinal))[context.Context.ConnectionId] = context.Context;
        }
        await next(context);
    }

    public async Task OnDisconnectedAsync(HubLifetimeContext context, Exception? exception, Func<HubLifetimeContext, Exception?, Task> next)
    {
        if (UserId(context.Context) is { } userId && _connections.TryGetValue(userId, out var set))
            set.TryRemove(context.Context.ConnectionId, out _);
        await next(context, exception);
    }

    /// <summary>Every connection of users who are no longer allowed is aborted (the periodic sweep; see <see cref="DisabledUserSweep"/>).</summary>
    public async Task SweepAsync(CancellationToken cancellationToken)
    {
        foreach (var userId in _connections.Where(p => !p.Value.IsEmpty).Select(p => p.Key).ToList())
        {
            if (!await _access.IsAllowedAsync(userId, cancellationToken)) AbortConnectionsOf(userId);
        }
    }

    private void AbortConnectionsOf(string userId)
    {
        if (!_connections.TryRemove(userId, out var set) || set.IsEmpty) return;
        foreach (var context in set.Values) context.Abort();
        _ = _audit.RecordAsync(AuditActor.System, "access.refused", "user", userId, $"{set.Count} hub connection(s) cut: account disabled");
    }

    private Task RecordRefusalAsync(HubCallerContext context, string userId, string details)
    {
        var http = context.GetHttpContext();
        return _audit.RecordAsync(AuditActor.From(context.User!, http), "access.refused", "user", userId, details);
    }

    private static string? UserId(HubCallerContext context) =>
        context.User?.Identity?.IsAuthenticated == true ? context.User.FindFirstValue(ClaimTypes.NameIdentifier) : null;

    public void Dispose()
    {
        if (_events is not null) _events.Disabled -= AbortConnectionsOf;
    }
}

/// <summary>Every 10 s, hub connections of accounts disabled elsewhere (another process, the database) are cut too.</summary>
public sealed class DisabledUserSweep(UserAccessHubFilter filter, ILogger<DisabledUserSweep> logger) : BackgroundService
{
    public static readonly TimeSpan Interval = TimeSpan.FromSeconds(10);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(Interval);
        while (await timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false))
        {
            try
            {
                await filter.SweepAsync(stoppingToken);
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                logger.LogWarning(ex, "The disabled-user sweep failed; it runs again in {Interval}", Interval);
            }
        }
    }
}
