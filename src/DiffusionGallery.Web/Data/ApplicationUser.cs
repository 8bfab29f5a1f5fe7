using Microsoft.AspNetCore.Identity;

namespace DiffusionGallery.Web.Data;

public class ApplicationUser : IdentityUser
{
    public DateTimeOffset CreatedAt { get; set; }
}
