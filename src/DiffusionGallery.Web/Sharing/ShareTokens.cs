using System.Buffers.Text;
using System.Security.Cryptography;

namespace DiffusionGallery.Web.Sharing;

/// <summary>
/// Share link tokens: 192 bits from the operating system's CSPRNG, base64url (32 characters). They are not derived
/// from the image id, so knowing an id (time-ordered, partly guessable) gives no link.
/// </summary>
public static class ShareTokens
{
    public const int Bytes = 24;
    public const int Length = 32;

    public static string New() => Base64Url.EncodeToString(RandomNumberGenerator.GetBytes(Bytes));

    /// <summary>Cheap check before any lookup: exactly 32 base64url characters.</summary>
    public static bool IsWellFormed(string? token) =>
        token is { Length: Length } && token.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_');
}
