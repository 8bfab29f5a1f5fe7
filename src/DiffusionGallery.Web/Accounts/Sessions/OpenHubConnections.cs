using System.Collections.Concurrent;
using Microsoft.AspNetCore.SignalR;

namespace DiffusionGallery.Web.Accounts.Sessions;

/// <summary>The hub connections open now (kept by <see cref="SessionGuardHubFilter"/>), so the sweeper can end them.</summary>
public sealed class OpenHubConnections
{
    private readonly ConcurrentDictionary<string, HubCallerContext> _open = new(StringComparer.Ordinal);

    public int Count => _open.Count;

    public void Add(HubCallerContext context) => _open[context.ConnectionId] = context;

    public void Remove(string connectionId) => _open.TryRemove(connectionId, out _);

    public IReadOnlyCollection<HubCallerContext> Snapshot() => _open.Values.ToArray();
}
