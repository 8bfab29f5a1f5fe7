using DiffusionGallery.Web.Data;
using DiffusionGallery.Web.Options;
using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace DiffusionGallery.Web.Accounts;

/// <summary>Roles: the first account and the configured admin e-mails are Admin, everyone else User.</summary>
public sealed class AccountRoles(UserManager<ApplicationUser> users, IOptions<AuthOptions> options)
{
    public const string Admin = "Admin";
    public const string User = "User";
    public static readonly string[] All = [Admin, User];

    public async Task AssignInitialRoleAsync(ApplicationUser user)
    {
        var isFirst = !await users.Users.AnyAsync(u => u.Id != user.Id);
        var listed = options.Value.AdminEmails.Any(e => string.Equals(e.Trim(), user.Email, StringComparison.OrdinalIgnoreCase));
        await users.AddToRoleAsync(user, isFirst || listed ? Admin : User);
    }
}
