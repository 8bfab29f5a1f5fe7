using MailKit.Net.Smtp;
using MailKit.Security;
using Microsoft.Extensions.Options;
using MimeKit;

namespace DiffusionGallery.Web.Accounts.Email;

/// <summary>Sends over SMTP with MailKit, one connection per message (account mail is rare).</summary>
public sealed class SmtpMailTransport(IOptions<EmailOptions> options, ILogger<SmtpMailTransport> logger) : IMailTransport
{
    public async Task DeliverAsync(MimeMessage message, CancellationToken cancellationToken)
    {
        var email = options.Value;
        using var client = new SmtpClient { Timeout = (int)TimeSpan.FromSeconds(email.TimeoutSeconds).TotalMilliseconds };
        await client.ConnectAsync(email.Host!, email.Port, ToMailKit(email.Security), cancellationToken);
        if (!string.IsNullOrEmpty(email.User)) await client.AuthenticateAsync(email.User, email.Password ?? "", cancellationToken);
        await client.SendAsync(message, cancellationToken);
        await client.DisconnectAsync(quit: true, cancellationToken);
        logger.LogInformation("Sent \"{Subject}\" over SMTP ({Host}:{Port})", message.Subject, email.Host, email.Port);
    }

    internal static SecureSocketOptions ToMailKit(SmtpSecurity security) => security switch
    {
        SmtpSecurity.SslOnConnect => SecureSocketOptions.SslOnConnect,
        SmtpSecurity.StartTls => SecureSocketOptions.StartTls,
        SmtpSecurity.StartTlsWhenAvailable => SecureSocketOptions.StartTlsWhenAvailable,
        _ => SecureSocketOptions.None,
    };
}
