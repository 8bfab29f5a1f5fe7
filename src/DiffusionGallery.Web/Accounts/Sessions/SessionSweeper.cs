using Microsoft.Extensions.Options;

namespace DiffusionGallery.Web.Accounts.Sessions;

/// <summary>
/// Every <see cref="SessionGuardOptions.RevalidationSeconds"/>, closes each open hub connection whose session has ended
/// (Blazor circuits are re-checked by <see cref="SessionRevalidatingAuthenticationStateProvider"/> on the same clock).
/// </summary>
public sealed class SessionSweeper(
    OpenHubConnections connections,
    SessionValidator validator,
    IOptions<SessionGuardOptions> options,
    ILogger<SessionSweeper> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(options.Value.RevalidationInterval);
        while (await timer.WaitForNextTickAsync(stoppingToken))
        {
            try
            {
                await SweepAsync(stoppingToken);
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                logger.LogError(ex, "The session sweep failed; it runs again in {Interval}", options.Value.RevalidationInterval);
            }
        }
    }

    /// <returns>How many connections were closed.</returns>
    public async Task<int> SweepAsync(CancellationToken cancellationToken)
    {
        var closed = 0;
        foreach (var context in connections.Snapshot())
        {
            if (context.User is not { } user || await validator.FindEndReasonAsync(user, cancellationToken) is not { } reason) continue;
            logger.LogInformation("Closed hub connection {ConnectionId} of user {UserId}: {Reason}", context.ConnectionId, context.UserIdentifier, reason);
            connections.Remove(context.ConnectionId);
            context.Abort();
            closed++;
        }
        return closed;
    }
}
