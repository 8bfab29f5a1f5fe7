namespace DiffusionGallery.Web.Data.Entities;

/// <summary>Per-user remembered generate settings (JSON of <see cref="GenerationSettings"/>).</summary>
public sealed class UserPreference
{
    public required string UserId { get; set; }
    public ApplicationUser? User { get; set; }
    public string GenerateSettingsJson { get; set; } = "{}";
    public DateTimeOffset UpdatedAt { get; set; }
}
