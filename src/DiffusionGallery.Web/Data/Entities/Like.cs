namespace DiffusionGallery.Web.Data.Entities;

/// <summary>A user likes a (shared) image. One row per user and image.</summary>
public sealed class Like
{
    public required string UserId { get; set; }
    public Guid ImageId { get; set; }
    public DateTimeOffset CreatedAt { get; set; }
}
