using System.ComponentModel.DataAnnotations;

namespace DiffusionGallery.Web.Accounts.Sessions;

/// <summary>The <c>Sessions</c> section: how often open circuits and hub connections are re-checked.</summary>
public sealed class SessionGuardOptions
{
    public const string SectionName = "Sessions";

    /// <summary>
    /// Seconds between re-checks of every open Blazor circuit and hub connection (and of the sign-in cookie's security
    /// stamp). A revoked token, a sign-out elsewhere, a password change or a deleted account ends them within this time.
    /// </summary>
    [Range(1, 300)] public int RevalidationSeconds { get; set; } = 10;

    public TimeSpan RevalidationInterval => TimeSpan.FromSeconds(RevalidationSeconds);
}
