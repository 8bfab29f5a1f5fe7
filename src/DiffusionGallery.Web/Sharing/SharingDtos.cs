using DiffusionGallery.Inference.Abstractions;
using DiffusionGallery.Web.Data.Entities;

namespace DiffusionGallery.Web.Sharing;

/// <summary>The public face of a user: never the e-mail address.</summary>
public sealed record CreatorDto(string Handle, string DisplayName, string ProfileUrl);

/// <summary>Settings of a shared image; null when its owner hides the prompt.</summary>
public sealed record SharedSettingsDto(
    string Prompt, string NegativePrompt, string Model, SamplerKind Sampler, string SamplerName, bool KarrasSigmas, int Steps,
    float GuidanceScale, long Seed, float Temperature);

/// <summary>An image as another viewer sees it (share page, Explore, profiles, collections).</summary>
public sealed record SharedImageDto(
    Guid Id, string? ShareUrl, string Page, string Image, string Thumb, CreatorDto Creator, DateTimeOffset CreatedAt, int Width, int Height,
    int Likes, int Remixes, bool LikedByMe, bool AllowRemix, bool PromptHidden, SharedSettingsDto? Settings, ParentRefDto? Parent);

/// <summary>"Remixed from …": the parent when the viewer may see it; otherwise only that it is no longer available.</summary>
public sealed record ParentRefDto(bool Available, Guid? Id, CreatorDto? Creator, string? Page, string? Thumb);

/// <summary>Body of PATCH /api/images/{id}: any subset.</summary>
public sealed record ImageSharingPatch(string? Visibility, bool? HidePrompt, bool? AllowRemix);

/// <summary>One of your images with its sharing state (PATCH /api/images/{id}, POST …/share-link).</summary>
public sealed record OwnImageSharingDto(
    Guid Id, ImageVisibility Visibility, string? ShareUrl, bool HidePrompt, bool AllowRemix, int Likes, int Remixes, string Prompt,
    DateTimeOffset CreatedAt, string Image, string Thumb);

public sealed record ExplorePageDto(IReadOnlyList<SharedImageDto> Items, int Total, int Page, int PageSize);

/// <summary>GET /api/images/{id}/remix: what the generate page is prefilled with. Prompt fields are omitted when hidden.</summary>
public sealed record RemixPrefillDto(
    Guid ParentImageId, bool RecordsParent, bool PromptHidden, string? Prompt, string? NegativePrompt, string Model, SamplerKind Sampler,
    bool KarrasSigmas, int Steps, float GuidanceScale, int Width, int Height, long Seed, float Temperature);

public static class VisibilityParser
{
    /// <summary>"Private", "Unlisted" or "Public" (any case); null stays null; anything else is a 400 naming the field.</summary>
    public static ImageVisibility? Parse(string? value, string field = "visibility") =>
        value is null ? null
        : Enum.TryParse<ImageVisibility>(value, ignoreCase: true, out var parsed) && Enum.IsDefined(parsed) && !int.TryParse(value, out _) ? parsed
        : throw SharingException.Invalid(field, "Visibility must be Private, Unlisted or Public.");
}

public static class SharingUrls
{
    public static string? Share(string? token) => token is null ? null : $"/s/{token}";
    public static string? Collection(string? token) => token is null ? null : $"/c/{token}";
    public static string Profile(string handle) => $"/u/{Uri.EscapeDataString(handle)}";
}
