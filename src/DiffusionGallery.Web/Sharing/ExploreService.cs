using DiffusionGallery.Web.Data;
using DiffusionGallery.Web.Data.Entities;
using Microsoft.EntityFrameworkCore;

namespace DiffusionGallery.Web.Sharing;

public enum ExploreSort { Newest, Likes, Remixes }

public enum ExplorePeriod { All, Week }

public sealed record ExploreQuery(
    ExploreSort Sort = ExploreSort.Newest, ExplorePeriod Period = ExplorePeriod.All, string? Search = null, string? Model = null,
    int Page = 1, int PageSize = 24, string? CreatorId = null, string? LikedBy = null);

/// <summary>
/// The public feed (Explore), profiles and the "Liked" tab: only Public images that are not taken down
/// (<see cref="ImageAccess.Listed"/>) — never Unlisted or Private ones, whoever asks.
/// </summary>
public sealed class ExploreService(IDbContextFactory<ApplicationDbContext> dbFactory, SharedImageReader reader, TimeProvider time)
{
    public const int MaxPageSize = 60;
    public const int MaxSearchLength = 200;

    public async Task<ExplorePageDto> QueryAsync(ExploreQuery query, Viewer viewer, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(query);
        if (query.Search is { Length: > MaxSearchLength }) throw SharingException.Invalid("search", $"Search text is limited to {MaxSearchLength} characters.");
        if (!Enum.IsDefined(query.Sort)) throw SharingException.Invalid("sort", "Sort must be newest, likes or remixes.");
        if (!Enum.IsDefined(query.Period)) throw SharingException.Invalid("period", "Period must be week or all.");
        var page = Math.Max(1, query.Page);
        var pageSize = Math.Clamp(query.PageSize, 1, MaxPageSize);

        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var source = db.GeneratedImages.AsNoTracking();
        string? match = null;
        if (!string.IsNullOrWhiteSpace(query.Search))
        {
            // A hidden prompt is not searchable (searching it would reveal it word by word): the index leaves such images
            // out, and the filter says so again. Text without any word (only punctuation) matches nothing.
            match = ExploreSearchQuery.MatchExpression(query.Search);
            if (match is null) return new ExplorePageDto([], 0, page, pageSize);
            source = source.Where(i => !i.HidePrompt).Matching(db, match);
        }
        var images = ImageAccess.Listed(source);
        if (query.Period == ExplorePeriod.Week)
        {
            var since = time.GetUtcNow().AddDays(-7);
            images = images.Where(i => i.CreatedAt >= since);
        }
        if (query.CreatorId is { } creator) images = images.Where(i => i.OwnerId == creator);
        if (query.LikedBy is { } liker) images = images.Where(i => db.Likes.Any(l => l.UserId == liker && l.ImageId == i.Id));
        if (!string.IsNullOrWhiteSpace(query.Model)) images = images.Where(i => i.ModelName == query.Model);

        var searchOnly = match is not null && query is { Period: ExplorePeriod.All, CreatorId: null, LikedBy: null } && string.IsNullOrWhiteSpace(query.Model);
        var total = searchOnly ? await ExploreSearchQuery.CountAsync(db, match!, cancellationToken) : await images.CountAsync(cancellationToken);
        var ordered = query.Sort switch
        {
            ExploreSort.Likes => images.OrderByDescending(i => i.LikeCount).ThenByDescending(i => i.CreatedAt),
            ExploreSort.Remixes => images.OrderByDescending(i => i.RemixCount).ThenByDescending(i => i.CreatedAt),
            _ => images.OrderByDescending(i => i.CreatedAt),
        };
        var items = await ordered.ThenByDescending(i => i.Id).Skip((page - 1) * pageSize).Take(pageSize).Include(i => i.Owner).ToListAsync(cancellationToken);
        var grants = items.Select(i => ImageAccess.Grant(i, viewer, ImageRoute.ById, $"/gallery/{i.Id}", $"/images/{i.Id}", $"/images/{i.Id}/thumb")).ToList();
        return new ExplorePageDto(await reader.ReadAsync(grants, cancellationToken), total, page, pageSize);
    }

    /// <summary>Models that appear among public images (Explore's filter).</summary>
    public async Task<IReadOnlyList<string>> ModelsAsync(CancellationToken cancellationToken = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        return await ImageAccess.Listed(db.GeneratedImages).Select(i => i.ModelName).Distinct().OrderBy(m => m).ToListAsync(cancellationToken);
    }
}
