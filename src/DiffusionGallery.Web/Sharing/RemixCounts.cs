using DiffusionGallery.Web.Data;
using Microsoft.EntityFrameworkCore;

namespace DiffusionGallery.Web.Sharing;

/// <summary>
/// Keeps <see cref="Data.Entities.GeneratedImage.RemixCount"/> (Explore's "most remixed" sort key) equal to the number of
/// images that name each image as their parent. Images are created and deleted by several capabilities (generation,
/// gallery, admin), so instead of hooking each of them this reconciles in one statement every <see cref="Interval"/>
/// (and on demand). The counts shown on pages are always counted live.
/// </summary>
public sealed class RemixCounts(IDbContextFactory<ApplicationDbContext> dbFactory, ILogger<RemixCounts> logger) : BackgroundService
{
    public static readonly TimeSpan Interval = TimeSpan.FromSeconds(30);

    /// <summary>Brings every stale count up to date; returns how many images changed.</summary>
    public async Task<int> RefreshAsync(CancellationToken cancellationToken = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        return await db.GeneratedImages
            .Where(i => i.RemixCount != db.GeneratedImages.Count(c => c.ParentImageId == i.Id))
            .ExecuteUpdateAsync(u => u.SetProperty(i => i.RemixCount, i => db.GeneratedImages.Count(c => c.ParentImageId == i.Id)), cancellationToken);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(Interval);
        do
        {
            try
            {
                var changed = await RefreshAsync(stoppingToken);
                if (changed > 0) logger.LogDebug("Remix counts refreshed for {Count} images", changed);
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                logger.LogWarning(ex, "Refreshing remix counts failed; retrying in {Interval}", Interval);
            }
        }
        while (await timer.WaitForNextTickAsync(stoppingToken));
    }
}
