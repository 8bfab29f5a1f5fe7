using DiffusionGallery.Inference.Abstractions;
using DiffusionGallery.Web.Data;
using DiffusionGallery.Web.Data.Entities;
using Microsoft.EntityFrameworkCore;

namespace DiffusionGallery.Web.Gallery;

public sealed record GalleryQuery(string? Search = null, string? Model = null, SamplerKind? Sampler = null, int Skip = 0, int Take = 24);

public sealed record GalleryPage(IReadOnlyList<GeneratedImage> Items, int Total);

/// <summary>Reads and deletes a user's images. Every method takes the owner id and never returns another user's rows.</summary>
public sealed class GalleryService(IDbContextFactory<ApplicationDbContext> dbFactory, ImageStore store, ILogger<GalleryService> logger)
{
    public const int MaxPageSize = 100;

    public async Task<GalleryPage> QueryAsync(string ownerId, GalleryQuery query, CancellationToken cancellationToken = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var images = db.GeneratedImages.AsNoTracking().Where(i => i.OwnerId == ownerId);
        if (!string.IsNullOrWhiteSpace(query.Search))
        {
            var pattern = $"%{EscapeLike(query.Search.Trim())}%";
            images = images.Where(i => EF.Functions.Like(i.Settings.Prompt, pattern, "\\"));
        }
        if (!string.IsNullOrWhiteSpace(query.Model)) images = images.Where(i => i.ModelName == query.Model);
        if (query.Sampler is { } sampler) images = images.Where(i => i.Settings.Sampler == sampler);

        var total = await images.CountAsync(cancellationToken);
        var take = Math.Clamp(query.Take, 1, MaxPageSize);
        var items = await images.OrderByDescending(i => i.CreatedAt).ThenByDescending(i => i.Id)
            .Skip(Math.Max(0, query.Skip)).Take(take).ToListAsync(cancellationToken);
        return new GalleryPage(items, total);
    }

    public async Task<IReadOnlyList<string>> ModelsUsedAsync(string ownerId, CancellationToken cancellationToken = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        return await db.GeneratedImages.Where(i => i.OwnerId == ownerId).Select(i => i.ModelName).Distinct().OrderBy(m => m).ToListAsync(cancellationToken);
    }

    public async Task<GeneratedImage?> GetAsync(string ownerId, Guid imageId, CancellationToken cancellationToken = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        return await db.GeneratedImages.AsNoTracking().SingleOrDefaultAsync(i => i.Id == imageId && i.OwnerId == ownerId, cancellationToken);
    }

    public async Task<bool> DeleteAsync(string ownerId, Guid imageId, CancellationToken cancellationToken = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var deleted = await db.GeneratedImages.Where(i => i.Id == imageId && i.OwnerId == ownerId).ExecuteDeleteAsync(cancellationToken);
        if (deleted == 0) return false;
        store.Delete(imageId);
        logger.LogInformation("Image {ImageId} deleted by its owner {UserId}", imageId, ownerId);
        return true;
    }

    /// <summary>Deletes every image file and row of a user (account deletion).</summary>
    public async Task<int> DeleteAllAsync(string ownerId, CancellationToken cancellationToken = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var ids = await db.GeneratedImages.Where(i => i.OwnerId == ownerId).Select(i => i.Id).ToListAsync(cancellationToken);
        await db.GeneratedImages.Where(i => i.OwnerId == ownerId).ExecuteDeleteAsync(cancellationToken);
        foreach (var id in ids) store.Delete(id);
        return ids.Count;
    }

    private static string EscapeLike(string value) => value.Replace("\\", "\\\\").Replace("%", "\\%").Replace("_", "\\_");
}
