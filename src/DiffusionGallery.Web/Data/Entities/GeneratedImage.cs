namespace DiffusionGallery.Web.Data.Entities;

public enum ImageVisibility { Private = 0, Unlisted = 1, Public = 2 }

/// <summary>One stored image; its files are found through <see cref="Storage.ImageStore"/> by id, never by a client-supplied path.</summary>
public sealed class GeneratedImage
{
    public Guid Id { get; set; }
    public required string OwnerId { get; set; }
    public ApplicationUser? Owner { get; set; }
    public Guid? JobId { get; set; }
    public GenerationJob? Job { get; set; }
    public GenerationSettings Settings { get; set; } = new();
    /// <summary>The seed this very image used (batch item i uses seed + i).</summary>
    public long Seed { get; set; }
    public int Width { get; set; }
    public int Height { get; set; }
    public required string ModelName { get; set; }
    public string ModelHash { get; set; } = "";
    public string ExecutionProvider { get; set; } = "";
    public string ParametersText { get; set; } = "";
    /// <summary>SHA-256 of the PNG file, hex.</summary>
    public required string FileHash { get; set; }
    public long FileSize { get; set; }
    public ImageVisibility Visibility { get; set; } = ImageVisibility.Private;
    /// <summary>Reserved for unlisted share links.</summary>
    public string? ShareToken { get; set; }
    public Guid? ParentImageId { get; set; }
    public DateTimeOffset CreatedAt { get; set; }
    public DateTimeOffset? TakenDownAt { get; set; }
}
