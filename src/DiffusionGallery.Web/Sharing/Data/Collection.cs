using DiffusionGallery.Web.Data.Entities;

namespace DiffusionGallery.Web.Sharing.Data;

/// <summary>A named, ordered group of one user's images with its own visibility and link (<c>/c/{token}</c>).</summary>
public sealed class Collection
{
    public Guid Id { get; set; }
    public required string OwnerId { get; set; }
    public required string Name { get; set; }
    public string Description { get; set; } = "";
    public ImageVisibility Visibility { get; set; } = ImageVisibility.Private;
    /// <summary>Null while Private.</summary>
    public string? ShareToken { get; set; }
    /// <summary>The cover image (one of the collection's); the first image when null.</summary>
    public Guid? CoverImageId { get; set; }
    public DateTimeOffset CreatedAt { get; set; }
    public List<CollectionImage> Images { get; set; } = [];
}

/// <summary>An image's place in a collection; an image can be in several collections.</summary>
public sealed class CollectionImage
{
    public Guid CollectionId { get; set; }
    public Guid ImageId { get; set; }
    public GeneratedImage? Image { get; set; }
    public int Position { get; set; }
}
