using Microsoft.AspNetCore.Identity;

namespace DiffusionGallery.Web.Data;

public class ApplicationUser : IdentityUser
{
    public DateTimeOffset CreatedAt { get; set; }
    /// <summary>Set by an admin: the account cannot sign in, its tokens stop working and it may not generate.</summary>
    public DateTimeOffset? DisabledAt { get; set; }
}
