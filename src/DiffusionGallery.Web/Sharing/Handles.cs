using System.Security.Cryptography;
using System.Text;
using System.Text.RegularExpressions;

namespace DiffusionGallery.Web.Sharing;

/// <summary>Public handles: 3–30 characters, lower-case letters, digits, '-' and '_', starting with a letter or digit.</summary>
public static partial class Handles
{
    public const int MinLength = 3;
    public const int MaxLength = 30;
    public const int MaxDisplayNameLength = 60;
    public const string Rule = "3–30 characters: lower-case letters, digits, '-' or '_', starting with a letter or digit.";

    private static readonly string[] Adjectives = ["amber", "bold", "brisk", "calm", "clever", "cosmic", "crisp", "dusky", "eager", "fuzzy", "gentle", "golden", "hazy", "jolly", "lucky", "mellow", "misty", "noble", "quiet", "rapid", "rosy", "shiny", "silver", "sunny", "swift", "tidy", "vivid", "witty"];
    private static readonly string[] Nouns = ["badger", "comet", "cedar", "falcon", "fern", "heron", "lantern", "lynx", "maple", "meadow", "otter", "pebble", "pixel", "quartz", "raven", "river", "sparrow", "spruce", "tiger", "tulip", "willow", "wren"];
    private static readonly HashSet<string> Reserved = ["admin", "administrator", "api", "explore", "gallery", "generate", "account", "me", "settings", "support", "root", "system", "null", "undefined"];

    /// <summary>Lower-cases and trims; null when blank.</summary>
    public static string? Normalize(string? handle) => string.IsNullOrWhiteSpace(handle) ? null : handle.Trim().ToLowerInvariant();

    /// <summary>Null when valid (after <see cref="Normalize"/>), else the message for the user.</summary>
    public static string? Validate(string? handle)
    {
        if (handle is null || handle.Length < MinLength || handle.Length > MaxLength || !Pattern().IsMatch(handle)) return $"The handle must be {Rule}";
        if (Reserved.Contains(handle)) return $"The handle '{handle}' is reserved.";
        return null;
    }

    /// <summary>A random, friendly default such as "misty-otter-4821" (about 26 bits; uniqueness is checked by the caller).</summary>
    public static string Generate() =>
        $"{Adjectives[RandomNumberGenerator.GetInt32(Adjectives.Length)]}-{Nouns[RandomNumberGenerator.GetInt32(Nouns.Length)]}-{RandomNumberGenerator.GetInt32(1000, 10000)}";

    /// <summary>A display name without control characters, trimmed, at most <see cref="MaxDisplayNameLength"/>; null when blank.</summary>
    public static string? CleanDisplayName(string? name)
    {
        if (string.IsNullOrWhiteSpace(name)) return null;
        var builder = new StringBuilder(name.Length);
        foreach (var c in name.Trim()) if (!char.IsControl(c)) builder.Append(c);
        var clean = builder.ToString();
        return clean.Length == 0 ? null : clean[..Math.Min(clean.Length, MaxDisplayNameLength)];
    }

    [GeneratedRegex("^[a-z0-9][a-z0-9_-]*$")]
    private static partial Regex Pattern();
}
