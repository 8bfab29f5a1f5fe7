using DiffusionGallery.Web.Accounts;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Identity;

namespace DiffusionGallery.Web.Admin;

public static class AdminPolicy
{
    /// <summary>Signed in (cookie or personal access token) with the Admin role.</summary>
    public const string Name = "Admin";

    public static void Configure(AuthorizationPolicyBuilder policy) => policy
        .AddAuthenticationSchemes(IdentityConstants.ApplicationScheme, PersonalAccessTokenHandler.SchemeName)
        .RequireAuthenticatedUser()
        .RequireRole(AccountRoles.Admin);
}
