using MimeKit;

namespace DiffusionGallery.Web.Accounts.Email;

/// <summary>Delivers one message: over SMTP, or into the pickup folder.</summary>
public interface IMailTransport
{
    Task DeliverAsync(MimeMessage message, CancellationToken cancellationToken);
}
