using System.ComponentModel.DataAnnotations;
using MimeKit;

namespace DiffusionGallery.Web.Accounts.Email;

public enum SmtpSecurity
{
    /// <summary>TLS from the first byte (usually port 465).</summary>
    SslOnConnect,
    /// <summary>Plain connection upgraded with STARTTLS, which must be offered (usually port 587).</summary>
    StartTls,
    /// <summary>STARTTLS when the server offers it, plain otherwise.</summary>
    StartTlsWhenAvailable,
    /// <summary>No TLS (a relay on the same host, or tests).</summary>
    None,
}

/// <summary>
/// The <c>Email</c> section. With <see cref="Host"/> set, mail goes out over SMTP; without it each message is written
/// as an <c>.eml</c> file under <see cref="PickupDirectory"/> (and the path logged), so the account flows work on a
/// fresh machine.
/// </summary>
public sealed class EmailOptions : IValidatableObject
{
    public const string SectionName = "Email";

    public string? Host { get; set; }

    [Range(1, 65535)] public int Port { get; set; } = 587;

    public SmtpSecurity Security { get; set; } = SmtpSecurity.StartTls;

    public string? User { get; set; }

    public string? Password { get; set; }

    /// <summary>The From address, e.g. <c>DiffusionGallery &lt;noreply@example.com&gt;</c>.</summary>
    public string Sender { get; set; } = "DiffusionGallery <noreply@localhost>";

    /// <summary>Where messages are written when no <see cref="Host"/> is set (relative to the app's base folder).</summary>
    public string PickupDirectory { get; set; } = "data/mail";

    [Range(1, 600)] public int TimeoutSeconds { get; set; } = 30;

    /// <summary>Attempts per message before it is given up (and logged as an error).</summary>
    [Range(1, 20)] public int MaxAttempts { get; set; } = 4;

    public bool UsesSmtp => !string.IsNullOrWhiteSpace(Host);

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (!MailboxAddress.TryParse(Sender, out var sender) || !sender.Address.Contains('@', StringComparison.Ordinal))
            yield return new ValidationResult($"Email:Sender '{Sender}' is not an e-mail address (e.g. \"DiffusionGallery <noreply@example.com>\").", [nameof(Sender)]);
        if (!string.IsNullOrEmpty(User) && string.IsNullOrEmpty(Password))
            yield return new ValidationResult("Email:Password is required when Email:User is set.", [nameof(Password)]);
        if (!UsesSmtp && string.IsNullOrWhiteSpace(PickupDirectory))
            yield return new ValidationResult("Set Email:Host (SMTP) or Email:PickupDirectory (.eml files).", [nameof(PickupDirectory)]);
    }
}
