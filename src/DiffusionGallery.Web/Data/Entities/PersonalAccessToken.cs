namespace DiffusionGallery.Web.Data.Entities;

/// <summary>An API token. Only the SHA-256 hash is stored; the secret is shown once at creation.</summary>
public sealed class PersonalAccessToken
{
    public Guid Id { get; set; }
    public required string UserId { get; set; }
    public ApplicationUser? User { get; set; }
    public required string Name { get; set; }
    /// <summary>SHA-256 of the full token, hex.</summary>
    public required string TokenHash { get; set; }
    /// <summary>The first characters of the token, to recognise it in the list.</summary>
    public required string Prefix { get; set; }
    public DateTimeOffset CreatedAt { get; set; }
    public DateTimeOffset? LastUsedAt { get; set; }
    public DateTimeOffset? RevokedAt { get; set; }
}
