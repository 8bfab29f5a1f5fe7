using QRCoder;

namespace DiffusionGallery.Web.Accounts;

/// <summary>The authenticator setup page's QR code: the otpauth:// URI as an inline SVG (drawn on the server, no script).</summary>
public static class AuthenticatorQrCode
{
    /// <summary>The name authenticator apps show for the account's codes.</summary>
    public const string Issuer = "DiffusionGallery";

    public static string Svg(string otpauthUri)
    {
        ArgumentException.ThrowIfNullOrEmpty(otpauthUri);
        using var generator = new QRCodeGenerator();
        using var data = generator.CreateQrCode(otpauthUri, QRCodeGenerator.ECCLevel.M);
        // dark modules on white, whatever the page's theme: scanners need the contrast
        return new SvgQRCode(data).GetGraphic(new System.Drawing.Size(200, 200), "#000000", "#ffffff", drawQuietZones: true);
    }
}
