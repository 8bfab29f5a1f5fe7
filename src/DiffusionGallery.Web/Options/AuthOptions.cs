using System.ComponentModel.DataAnnotations;

namespace DiffusionGallery.Web.Options;

/// <summary>The <c>Auth</c> section.</summary>
public sealed class AuthOptions
{
    public const string SectionName = "Auth";

    /// <summary>E-mail addresses that become Admin on registration (the first account always does).</summary>
    public List<string> AdminEmails { get; set; } = [];

    public bool RequireConfirmedEmail { get; set; }

    [Range(1, 100)] public int MaxFailedAccessAttempts { get; set; } = 5;

    [Range(1, 1440)] public int LockoutMinutes { get; set; } = 5;

    [Range(8, 64)] public int MinPasswordLength { get; set; } = 8;

    /// <summary>Blazor circuits (browser tabs) one account may hold open at once.</summary>
    [Range(1, 1000)] public int MaxCircuitsPerUser { get; set; } = 10;
}
