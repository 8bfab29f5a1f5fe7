using DiffusionGallery.Web.Data;
using Microsoft.EntityFrameworkCore;

namespace DiffusionGallery.Web.Gallery;

/// <summary>At start-up, before the worker writes anything: removes temporary files and image files that have no row.</summary>
public sealed class StorageSweep(IDbContextFactory<ApplicationDbContext> dbFactory, ImageStore store, ILogger<StorageSweep> logger) : IHostedService
{
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var known = (await db.GeneratedImages.Select(i => i.Id).ToListAsync(cancellationToken)).ToHashSet();
        var (temps, orphans) = store.Sweep(known.Contains);
        if (temps + orphans > 0)
            logger.LogWarning("Storage sweep removed {Temps} temporary and {Orphans} orphan image files left by an interrupted save", temps, orphans);
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
