using DiffusionGallery.Web.Data;
using DiffusionGallery.Web.Data.Entities;
using DiffusionGallery.Web.Sharing.Data;
using Microsoft.EntityFrameworkCore;

namespace DiffusionGallery.Web.Sharing;

public sealed record CollectionCreate(string? Name, string? Description);

public sealed record CollectionPatch(string? Name, string? Description, string? Visibility, Guid? CoverImageId);

public sealed record CollectionImagesPut(IReadOnlyList<Guid>? ImageIds);

public sealed record CollectionDto(Guid Id, string Name, string Description, ImageVisibility Visibility, string? ShareUrl, Guid? CoverImageId, int ImageCount, IReadOnlyList<Guid> ImageIds, DateTimeOffset CreatedAt);

/// <summary>The owner's own view of a collection: it and its images, in order.</summary>
public sealed record OwnCollectionView(CollectionDto Collection, IReadOnlyList<GeneratedImage> Images);

public sealed record SharedCollectionItemDto(Guid Id, string Image, string Thumb, SharedImageDto Details);

public sealed record SharedCollectionDto(string Name, string Description, CreatorDto Creator, string? Cover, IReadOnlyList<SharedCollectionItemDto> Items);

public sealed record CollectionSummaryDto(string Name, string Description, string ShareUrl, string? Cover, int ImageCount);

/// <summary>Collections: named, ordered groups of one user's own images, shared by their own link. Owner-only writes.</summary>
public sealed class CollectionService(IDbContextFactory<ApplicationDbContext> dbFactory, SharedImageReader reader, UserProfiles profiles, TimeProvider time)
{
    public const int MaxNameLength = 100;
    public const int MaxDescriptionLength = 1000;
    public const int MaxImages = 500;

    public async Task<CollectionDto> CreateAsync(string ownerId, CollectionCreate request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        var collection = new Collection
        {
            Id = Guid.CreateVersion7(),
            OwnerId = ownerId,
            Name = ValidName(request.Name),
            Description = ValidDescription(request.Description),
            CreatedAt = time.GetUtcNow(),
        };
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        db.Add(collection);
        await db.SaveChangesAsync(cancellationToken);
        return ToDto(collection);
    }

    public async Task<IReadOnlyList<CollectionDto>> ListAsync(string ownerId, CancellationToken cancellationToken = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var collections = await db.Set<Collection>().AsNoTracking().Include(c => c.Images).Where(c => c.OwnerId == ownerId)
            .OrderByDescending(c => c.CreatedAt).ToListAsync(cancellationToken);
        return collections.Select(ToDto).ToList();
    }

    public async Task<CollectionDto?> GetAsync(string ownerId, Guid id, CancellationToken cancellationToken = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var collection = await db.Set<Collection>().AsNoTracking().Include(c => c.Images).SingleOrDefaultAsync(c => c.Id == id && c.OwnerId == ownerId, cancellationToken);
        return collection is null ? null : ToDto(collection);
    }

    /// <summary>The collection with its images for its owner's page; null when the collection is not theirs.</summary>
    public async Task<OwnCollectionView?> GetWithImagesAsync(string ownerId, Guid id, CancellationToken cancellationToken = default)
    {
        var collection = await GetAsync(ownerId, id, cancellationToken);
        if (collection is null) return null;
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var images = await db.GeneratedImages.AsNoTracking().Where(i => i.OwnerId == ownerId && collection.ImageIds.Contains(i.Id)).ToDictionaryAsync(i => i.Id, cancellationToken);
        return new OwnCollectionView(collection, collection.ImageIds.Where(images.ContainsKey).Select(i => images[i]).ToList());
    }

    /// <summary>Replaces the images (in this order). Only the owner's own images; null when the collection is not theirs.</summary>
    public async Task<CollectionDto?> SetImagesAsync(string ownerId, Guid id, CollectionImagesPut request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        var ids = request.ImageIds ?? throw SharingException.Invalid("imageIds", "imageIds is required (an empty list empties the collection).");
        if (ids.Count > MaxImages) throw SharingException.Invalid("imageIds", $"A collection holds at most {MaxImages} images.");
        if (ids.Distinct().Count() != ids.Count) throw SharingException.Invalid("imageIds", "An image can be in a collection only once.");
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var collection = await db.Set<Collection>().Include(c => c.Images).SingleOrDefaultAsync(c => c.Id == id && c.OwnerId == ownerId, cancellationToken);
        if (collection is null) return null;
        var own = await db.GeneratedImages.Where(i => i.OwnerId == ownerId && ids.Contains(i.Id)).Select(i => i.Id).ToListAsync(cancellationToken);
        if (own.Count != ids.Count)
            throw SharingException.Invalid("imageIds", "Only your own images can be put in your collections; some of these ids are not your images.");
        collection.Images.Clear();
        await db.SaveChangesAsync(cancellationToken);
        collection.Images.AddRange(ids.Select((imageId, index) => new CollectionImage { CollectionId = id, ImageId = imageId, Position = index }));
        if (collection.CoverImageId is { } cover && !ids.Contains(cover)) collection.CoverImageId = null;
        await db.SaveChangesAsync(cancellationToken);
        return ToDto(collection);
    }

    /// <summary>Adds images at the end (the gallery's "add to collection"); images already in it stay where they are.</summary>
    public async Task<CollectionDto?> AddImagesAsync(string ownerId, Guid id, IReadOnlyCollection<Guid> imageIds, CancellationToken cancellationToken = default)
    {
        var current = await GetAsync(ownerId, id, cancellationToken);
        if (current is null) return null;
        return await SetImagesAsync(ownerId, id, new CollectionImagesPut(current.ImageIds.Concat(imageIds.Where(i => !current.ImageIds.Contains(i))).ToList()), cancellationToken);
    }

    /// <summary>Takes images out (the image page's collection toggle, the owner's collection page); the rest keep their order.</summary>
    public async Task<CollectionDto?> RemoveImagesAsync(string ownerId, Guid id, IReadOnlyCollection<Guid> imageIds, CancellationToken cancellationToken = default)
    {
        var current = await GetAsync(ownerId, id, cancellationToken);
        if (current is null) return null;
        return await SetImagesAsync(ownerId, id, new CollectionImagesPut(current.ImageIds.Where(i => !imageIds.Contains(i)).ToList()), cancellationToken);
    }

    public async Task<CollectionDto?> PatchAsync(string ownerId, Guid id, CollectionPatch patch, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(patch);
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var collection = await db.Set<Collection>().Include(c => c.Images).SingleOrDefaultAsync(c => c.Id == id && c.OwnerId == ownerId, cancellationToken);
        if (collection is null) return null;
        var newVisibility = VisibilityParser.Parse(patch.Visibility);
        if (patch.Name is not null) collection.Name = ValidName(patch.Name);
        if (patch.Description is not null) collection.Description = ValidDescription(patch.Description);
        if (patch.CoverImageId is { } cover)
        {
            if (collection.Images.All(i => i.ImageId != cover)) throw SharingException.Invalid("coverImageId", "The cover must be one of the collection's images.");
            collection.CoverImageId = cover;
        }
        if (newVisibility is { } visibility)
        {
            collection.Visibility = visibility;
            if (visibility == ImageVisibility.Private) collection.ShareToken = null;
            else collection.ShareToken ??= ShareTokens.New();
        }
        await db.SaveChangesAsync(cancellationToken);
        if (collection.Visibility != ImageVisibility.Private) await profiles.EnsureHandleAsync(ownerId, cancellationToken);
        return ToDto(collection);
    }

    public async Task<CollectionDto?> RotateLinkAsync(string ownerId, Guid id, CancellationToken cancellationToken = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var collection = await db.Set<Collection>().Include(c => c.Images).SingleOrDefaultAsync(c => c.Id == id && c.OwnerId == ownerId, cancellationToken);
        if (collection is null) return null;
        if (collection.Visibility == ImageVisibility.Private) throw SharingException.Invalid("visibility", "A Private collection has no link. Make it Unlisted or Public first.");
        collection.ShareToken = ShareTokens.New();
        await db.SaveChangesAsync(cancellationToken);
        return ToDto(collection);
    }

    public async Task<bool> DeleteAsync(string ownerId, Guid id, CancellationToken cancellationToken = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        return await db.Set<Collection>().Where(c => c.Id == id && c.OwnerId == ownerId).ExecuteDeleteAsync(cancellationToken) > 0;
    }

    /// <summary>A collection by its link, as anyone holding it sees it; null for a revoked link or a Private collection.
    /// Each image keeps its own hide-prompt and allow-remix settings; taken-down images are left out.</summary>
    public async Task<SharedCollectionDto?> GetSharedAsync(string? token, Viewer viewer, CancellationToken cancellationToken = default)
    {
        if (!ShareTokens.IsWellFormed(token)) return null;
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var collection = await db.Set<Collection>().AsNoTracking().SingleOrDefaultAsync(c => c.ShareToken == token && c.Visibility != ImageVisibility.Private, cancellationToken);
        if (collection is null) return null;
        var owner = await db.Users.AsNoTracking().Where(u => u.Id == collection.OwnerId).Select(u => new { u.Handle, u.DisplayName }).SingleAsync(cancellationToken);
        var images = (await db.Set<CollectionImage>().AsNoTracking().Include(ci => ci.Image!).ThenInclude(i => i.Owner)
            .Where(ci => ci.CollectionId == collection.Id).OrderBy(ci => ci.Position).ToListAsync(cancellationToken)).Select(ci => ci.Image!).ToList();
        var grants = images.Where(i => ImageAccess.MayView(i, viewer, ImageRoute.Collection)).Select(i =>
        {
            var prefix = $"/c/{token}/images/{i.Id}";
            return ImageAccess.Grant(i, viewer, ImageRoute.Collection, $"/c/{token}#{i.Id}", prefix, $"{prefix}/thumb");
        }).ToList();
        var details = await reader.ReadAsync(grants, cancellationToken);
        var items = details.Select(d => new SharedCollectionItemDto(d.Id, d.Image, d.Thumb, d)).ToList();
        var coverId = collection.CoverImageId is { } c && items.Any(i => i.Id == c) ? c : items.FirstOrDefault()?.Id;
        return new SharedCollectionDto(collection.Name, collection.Description, UserProfiles.Creator(owner.Handle, owner.DisplayName),
            items.FirstOrDefault(i => i.Id == coverId)?.Thumb, items);
    }

    /// <summary>Public collections on a profile.</summary>
    public async Task<IReadOnlyList<CollectionSummaryDto>> PublicOfAsync(string ownerId, CancellationToken cancellationToken = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var collections = await db.Set<Collection>().AsNoTracking().Where(c => c.OwnerId == ownerId && c.Visibility == ImageVisibility.Public && c.ShareToken != null)
            .OrderByDescending(c => c.CreatedAt)
            .Select(c => new { c.Name, c.Description, c.ShareToken, c.CoverImageId, First = c.Images.OrderBy(i => i.Position).Select(i => (Guid?)i.ImageId).FirstOrDefault(), Count = c.Images.Count })
            .ToListAsync(cancellationToken);
        return collections.Select(c =>
        {
            var cover = c.CoverImageId ?? c.First;
            return new CollectionSummaryDto(c.Name, c.Description, SharingUrls.Collection(c.ShareToken)!, cover is null ? null : $"/c/{c.ShareToken}/images/{cover}/thumb", c.Count);
        }).ToList();
    }

    private static string ValidName(string? name)
    {
        if (string.IsNullOrWhiteSpace(name)) throw SharingException.Invalid("name", "A collection needs a name.");
        var trimmed = name.Trim();
        if (trimmed.Length > MaxNameLength) throw SharingException.Invalid("name", $"Names are limited to {MaxNameLength} characters.");
        if (trimmed.Any(char.IsControl)) throw SharingException.Invalid("name", "Names cannot contain control characters.");
        return trimmed;
    }

    private static string ValidDescription(string? description)
    {
        var text = description?.Trim() ?? "";
        if (text.Length > MaxDescriptionLength) throw SharingException.Invalid("description", $"Descriptions are limited to {MaxDescriptionLength} characters.");
        return text;
    }

    private static CollectionDto ToDto(Collection c) =>
        new(c.Id, c.Name, c.Description, c.Visibility, SharingUrls.Collection(c.ShareToken), c.CoverImageId, c.Images.Count,
            c.Images.OrderBy(i => i.Position).Select(i => i.ImageId).ToList(), c.CreatedAt);
}
