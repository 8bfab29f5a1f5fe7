using System.Collections.Concurrent;
using System.Security.Claims;
using DiffusionGallery.Web.Options;
using Microsoft.AspNetCore.Components.Authorization;
using Microsoft.AspNetCore.Components.Server.Circuits;
using Microsoft.Extensions.Options;

namespace DiffusionGallery.Web.Accounts;

/// <summary>Open circuits per signed-in user (Blazor itself has no per-user limit).</summary>
public sealed class CircuitRegistry
{
    private readonly ConcurrentDictionary<string, int> _open = new(StringComparer.Ordinal);

    public int OpenFor(string userId) => _open.GetValueOrDefault(userId);

    public bool TryAcquire(string userId, int max)
    {
        while (true)
        {
            var current = _open.GetValueOrDefault(userId);
            if (current >= max) return false;
            if (current == 0 ? _open.TryAdd(userId, 1) : _open.TryUpdate(userId, current + 1, current)) return true;
        }
    }

    public void Release(string userId)
    {
        while (_open.TryGetValue(userId, out var current))
        {
            if (current <= 1 ? _open.TryRemove(new KeyValuePair<string, int>(userId, current)) : _open.TryUpdate(userId, current - 1, current)) return;
        }
    }
}

/// <summary>
/// Refuses a circuit beyond <see cref="AuthOptions.MaxCircuitsPerUser"/> for one account (throwing here ends that
/// circuit; the browser shows the error bar), so one user cannot pin unbounded server memory with tabs.
/// </summary>
public sealed class PerUserCircuitLimiter(
    AuthenticationStateProvider authentication,
    CircuitRegistry registry,
    IOptions<AuthOptions> options,
    ILogger<PerUserCircuitLimiter> logger) : CircuitHandler
{
    private string? _userId;

    public override async Task OnCircuitOpenedAsync(Circuit circuit, CancellationToken cancellationToken)
    {
        var user = (await authentication.GetAuthenticationStateAsync()).User;
        var userId = user.FindFirstValue(ClaimTypes.NameIdentifier);
        if (userId is null) return;
        var max = options.Value.MaxCircuitsPerUser;
        if (!registry.TryAcquire(userId, max))
        {
            logger.LogWarning("Refused a circuit for user {UserId}: {Max} circuits already open", userId, max);
            throw new InvalidOperationException($"Too many open tabs: at most {max} per account.");
        }
        _userId = userId;
    }

    public override Task OnCircuitClosedAsync(Circuit circuit, CancellationToken cancellationToken)
    {
        if (Interlocked.Exchange(ref _userId, null) is { } userId) registry.Release(userId);
        return Task.CompletedTask;
    }
}
