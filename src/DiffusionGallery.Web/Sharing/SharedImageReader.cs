using DiffusionGallery.Inference.Metadata;
using DiffusionGallery.Web.Data;
using DiffusionGallery.Web.Data.Entities;
using Microsoft.EntityFrameworkCore;

namespace DiffusionGallery.Web.Sharing;

/// <summary>Turns grants into what other viewers see, with likes, remix counts and the parent loaded in a few batched queries.</summary>
public sealed class SharedImageReader(IDbContextFactory<ApplicationDbContext> dbFactory)
{
    public async Task<SharedImageDto> ReadAsync(ImageGrant grant, CancellationToken cancellationToken = default) =>
        (await ReadAsync([grant], cancellationToken))[0];

    public async Task<IReadOnlyList<SharedImageDto>> ReadAsync(IReadOnlyList<ImageGrant> grants, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(grants);
        if (grants.Count == 0) return [];
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var ids = grants.Select(g => g.Image.Id).ToList();
        var remixes = await db.GeneratedImages.Where(c => c.ParentImageId != null && ids.Contains(c.ParentImageId.Value))
            .GroupBy(c => c.ParentImageId!.Value).Select(g => new { g.Key, Count = g.Count() }).ToDictionaryAsync(x => x.Key, x => x.Count, cancellationToken);
        var viewer = grants[0].Viewer;
        var liked = viewer.UserId is { } userId
            ? (await db.Likes.Where(l => l.UserId == userId && ids.Contains(l.ImageId)).Select(l => l.ImageId).ToListAsync(cancellationToken)).ToHashSet()
            : [];
        var parentIds = grants.Where(g => g.Image.ParentImageId is not null).Select(g => g.Image.ParentImageId!.Value).Distinct().ToList();
        var parents = parentIds.Count == 0 ? [] : await db.GeneratedImages.AsNoTracking().Include(i => i.Owner)
            .Where(i => parentIds.Contains(i.Id)).ToDictionaryAsync(i => i.Id, cancellationToken);

        return grants.Select(g =>
        {
            var image = g.Image;
            ParentRefDto? parent = null;
            if (image.ParentImageId is { } parentId)
            {
                parent = parents.TryGetValue(parentId, out var p) && ImageAccess.MayAppearInLineage(p, g.Viewer)
                    ? new ParentRefDto(true, p.Id, UserProfiles.Creator(p.Owner), $"/gallery/{p.Id}", $"/images/{p.Id}/thumb")
                    : new ParentRefDto(false, null, null, null, null);
            }
            // A collection link shares the image only while the collection is shared: it does not hand out the image's own link.
            var shareUrl = image.Visibility == ImageVisibility.Public || g.IsOwner || g.Route == ImageRoute.ShareLink ? SharingUrls.Share(image.ShareToken) : null;
            return new SharedImageDto(image.Id, shareUrl, g.PageUrl, g.ImageUrl, g.ThumbUrl, UserProfiles.Creator(image.Owner),
                image.CreatedAt, image.Width, image.Height, image.LikeCount, remixes.GetValueOrDefault(image.Id), liked.Contains(image.Id),
                image.AllowRemix, image.HidePrompt, g.ShowPrompt ? Settings(image) : null, parent);
        }).ToList();
    }

    public static SharedSettingsDto Settings(GeneratedImage image)
    {
        ArgumentNullException.ThrowIfNull(image);
        var s = image.Settings;
        return new SharedSettingsDto(s.Prompt, s.NegativePrompt, image.ModelName, s.Sampler, SamplerLabel(s), s.KarrasSigmas, s.Steps, s.GuidanceScale, image.Seed, s.Temperature);
    }

    /// <summary>"DPM++ 2M Karras", "Euler a": the A1111 name with the schedule.</summary>
    public static string SamplerLabel(GenerationSettings settings)
    {
        ArgumentNullException.ThrowIfNull(settings);
        var name = A1111SamplerNames.ToA1111(settings.Sampler);
        return settings.KarrasSigmas && Inference.Scheduling.SamplerNames.SupportsKarras(settings.Sampler) ? $"{name} Karras" : name;
    }
}
