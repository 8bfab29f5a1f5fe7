using DiffusionGallery.Web.Sharing;

namespace DiffusionGallery.Web.Components.Pages.Sharing;

/// <summary>The remix in progress on the generate page.</summary>
public sealed record RemixState(RemixPrefillDto Prefill, CreatorDto Creator, string Thumb);
