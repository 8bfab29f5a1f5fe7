using DiffusionGallery.Web.Data.Entities;
using Microsoft.AspNetCore.Identity;

namespace DiffusionGallery.Web.Data;

public class ApplicationUser : IdentityUser
{
    public DateTimeOffset CreatedAt { get; set; }
    /// <summary>Public, unique, lower-case handle (<c>/u/{handle}</c>); generated at registration when none is chosen.</summary>
    public string? Handle { get; set; }
    /// <summary>Public display name; the handle is shown when empty. The e-mail address is never public.</summary>
    public string? DisplayName { get; set; }
    /// <summary>Visibility given to this user's new images.</summary>
    public ImageVisibility DefaultVisibility { get; set; } = ImageVisibility.Private;
    /// <summary>Set by an admin: the account cannot sign in, its tokens stop working and it may not generate.</summary>
    public DateTimeOffset? DisabledAt { get; set; }
}
