using DiffusionGallery.Web.Data;
using DiffusionGallery.Web.Data.Entities;
using Microsoft.EntityFrameworkCore;

namespace DiffusionGallery.Web.Sharing;

/// <summary>One image in a lineage view. Unavailable nodes (deleted, Private, Unlisted or taken down for this viewer) carry nothing but the fact.</summary>
public sealed record LineageNodeDto(
    Guid? Id, bool Available, CreatorDto? Creator, DateTimeOffset? CreatedAt, string? Page, string? Thumb, bool PromptHidden, string? Prompt,
    IReadOnlyList<string> Diff, IReadOnlyList<LineageNodeDto> Children);

/// <summary>Ancestors from the root down to the parent; the image itself; the tree of its descendants (each with the diff from its parent).</summary>
public sealed record LineageDto(IReadOnlyList<LineageNodeDto> Ancestors, LineageNodeDto Self, IReadOnlyList<LineageNodeDto> Descendants);

/// <summary>
/// Builds lineage views. Only images the viewer may see by id appear (their own, Public ones, all for admins): an
/// Unlisted, Private, deleted or taken-down ancestor shows as "source no longer available" and the walk stops there;
/// such descendants are left out with their subtrees. Diffs never compare a prompt the viewer may not see.
/// </summary>
public sealed class LineageService(IDbContextFactory<ApplicationDbContext> dbFactory)
{
    public const int MaxAncestors = 50;
    public const int MaxDepth = 6;
    public const int MaxNodes = 300;

    public async Task<LineageDto> BuildAsync(ImageGrant grant, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(grant);
        var viewer = grant.Viewer;
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);

        // Walk up from the image; an ancestor the viewer may not see by id ends the walk as "source no longer available".
        var walked = new List<GeneratedImage?>();
        var child = grant.Image;
        var seen = new HashSet<Guid> { child.Id };
        for (var hops = 0; hops < MaxAncestors; hops++)
        {
            var parentId = await ParentIdAsync(db, child, cancellationToken);
            if (parentId is null || !seen.Add(parentId.Value)) break;
            var parent = await db.GeneratedImages.AsNoTracking().Include(i => i.Owner).SingleOrDefaultAsync(i => i.Id == parentId, cancellationToken);
            if (parent is null || !ImageAccess.MayAppearInLineage(parent, viewer))
            {
                walked.Add(null);
                break;
            }
            walked.Add(parent);
            child = parent;
        }
        walked.Reverse();
        // Root first; each node is labelled with what changed from the node above it.
        var chain = new List<LineageNodeDto>(walked.Count);
        GeneratedImage? previous = null;
        foreach (var image in walked)
        {
            chain.Add(image is null ? Unavailable() : Node(image, viewer, previous, []));
            previous = image;
        }

        var self = new LineageNodeDto(grant.Image.Id, true, UserProfiles.Creator(grant.Image.Owner), grant.Image.CreatedAt, grant.PageUrl, grant.ThumbUrl,
            !grant.ShowPrompt, grant.ShowPrompt ? grant.Image.Settings.Prompt : null,
            previous is not null ? Diff(previous, grant.Image, viewer) : [], []);
        var descendants = await DescendantsAsync(db, grant.Image, viewer, cancellationToken);
        return new LineageDto(chain, self, descendants);
    }

    private async Task<IReadOnlyList<LineageNodeDto>> DescendantsAsync(ApplicationDbContext db, GeneratedImage root, Viewer viewer, CancellationToken cancellationToken)
    {
        // Breadth first, one query per level; only children the viewer may see by id.
        var images = new Dictionary<Guid, GeneratedImage> { [root.Id] = root };
        var childrenOf = new Dictionary<Guid, List<Guid>>();
        var frontier = new List<Guid> { root.Id };
        for (var depth = 0; depth < MaxDepth && frontier.Count > 0 && images.Count < MaxNodes; depth++)
        {
            var ids = frontier;
            var children = await db.GeneratedImages.AsNoTracking().Include(i => i.Owner)
                .Where(i => i.ParentImageId != null && ids.Contains(i.ParentImageId.Value))
                .OrderBy(i => i.CreatedAt).Take(MaxNodes).ToListAsync(cancellationToken);
            frontier = [];
            foreach (var c in children.Where(c => ImageAccess.MayAppearInLineage(c, viewer) && !images.ContainsKey(c.Id)))
            {
                if (images.Count >= MaxNodes) break;
                images[c.Id] = c;
                if (!childrenOf.TryGetValue(c.ParentImageId!.Value, out var list)) childrenOf[c.ParentImageId.Value] = list = [];
                list.Add(c.Id);
                frontier.Add(c.Id);
            }
        }
        return Build(root.Id);

        IReadOnlyList<LineageNodeDto> Build(Guid parentId) =>
            childrenOf.TryGetValue(parentId, out var kids)
                ? kids.Select(id => Node(images[id], viewer, images[parentId], Build(id))).ToList()
                : [];
    }

    private static async Task<Guid?> ParentIdAsync(ApplicationDbContext db, GeneratedImage image, CancellationToken cancellationToken)
    {
        if (image.ParentImageId is { } parent) return parent;
        // A deleted parent's children lose the foreign key (SET NULL); their job still names it, so "source no longer available" can be shown.
        if (image.JobId is not { } jobId) return null;
        return await db.GenerationJobs.Where(j => j.Id == jobId).Select(j => j.ParentImageId).SingleOrDefaultAsync(cancellationToken);
    }

    private static LineageNodeDto Node(GeneratedImage image, Viewer viewer, GeneratedImage? diffFrom, IReadOnlyList<LineageNodeDto> children)
    {
        var showPrompt = ImageAccess.MaySeePrompt(image, viewer);
        return new LineageNodeDto(image.Id, true, UserProfiles.Creator(image.Owner), image.CreatedAt, $"/gallery/{image.Id}", $"/images/{image.Id}/thumb",
            !showPrompt, showPrompt ? image.Settings.Prompt : null, diffFrom is null ? [] : Diff(diffFrom, image, viewer), children);
    }

    private static IReadOnlyList<string> Diff(GeneratedImage parent, GeneratedImage child, Viewer viewer) =>
        LineageDiff.Describe(parent, child, ImageAccess.MaySeePrompt(parent, viewer) && ImageAccess.MaySeePrompt(child, viewer));

    private static LineageNodeDto Unavailable() => new(null, false, null, null, null, null, true, null, [], []);
}
