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
    /// <summary>Share link token (<c>/s/{token}</c>) of an Unlisted or Public image; null when Private.</summary>
    public string? ShareToken { get; set; }
    /// <summary>Visitors see the picture but not its prompt and settings (also stripped from the PNG they download).</summary>
    public bool HidePrompt { get; set; }
    /// <summary>Whether others who may see this image may remix it.</summary>
    public bool AllowRemix { get; set; } = true;
    /// <summary>Number of likes (kept with the <see cref="Like"/> rows, for Explore's sort).</summary>
    public int LikeCount { get; set; }
    /// <summary>Number of remixes, refreshed in the background (for Explore's sort); pages count them live.</summary>
    public int RemixCount { get; set; }
    public Guid? ParentImageId { get; set; }
    public DateTimeOffset CreatedAt { get; set; }
    /// <summary>Set by an admin takedown: gone from every public surface (and its owner's public pages), kept for the audit.</summary>
    public DateTimeOffset? TakenDownAt { get; set; }
}
