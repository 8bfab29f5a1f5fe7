using System.ComponentModel.DataAnnotations;

namespace DiffusionGallery.Web.Accounts.RateLimiting;

/// <summary>
/// The <c>AccountRateLimits</c> section: attempts at sign-in, registration, forgot/reset password and e-mail
/// confirmation, counted per client address and per account name in fixed windows.
/// </summary>
public sealed class AccountRateLimitOptions
{
    public const string SectionName = "AccountRateLimits";

    /// <summary>Attempts one client address may make per window, over all accounts (password spraying).</summary>
    [Range(1, 1_000_000)] public int PerAddressPermitLimit { get; set; } = 30;

    /// <summary>Attempts on one account name per window, from all addresses (guessing one password).</summary>
    [Range(1, 1_000_000)] public int PerAccountPermitLimit { get; set; } = 10;

    [Range(1, 86_400)] public int WindowSeconds { get; set; } = 60;

    public TimeSpan Window => TimeSpan.FromSeconds(WindowSeconds);
}
