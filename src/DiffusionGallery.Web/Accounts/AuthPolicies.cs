namespace DiffusionGallery.Web.Accounts;

public static class AuthPolicies
{
    /// <summary>Signed in with the Identity cookie or a personal access token.</summary>
    public const string Api = "Api";
}
