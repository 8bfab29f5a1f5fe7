using System.Net;
using DiffusionGallery.Web.Data;
using Microsoft.AspNetCore.Identity;
using Microsoft.Extensions.Options;
using MimeKit;

namespace DiffusionGallery.Web.Accounts.Email;

/// <summary>
/// Identity's account mail (confirm address, reset password), as text and HTML, handed to <see cref="EmailQueue"/>
/// so the page answers at once whatever the mail server does.
/// </summary>
public sealed class IdentityEmailSender(EmailQueue queue, IOptions<EmailOptions> options) : IEmailSender<ApplicationUser>
{
    // Identity's pages pass links already HTML-encoded.
    public Task SendConfirmationLinkAsync(ApplicationUser user, string email, string confirmationLink) =>
        Send(email, "Confirm your e-mail address", "Confirm your DiffusionGallery account by opening this link:", confirmationLink);

    public Task SendPasswordResetLinkAsync(ApplicationUser user, string email, string resetLink) =>
        Send(email, "Reset your password", "Someone (hopefully you) asked to reset your DiffusionGallery password. Choose a new one here:", resetLink);

    public Task SendPasswordResetCodeAsync(ApplicationUser user, string email, string resetCode) =>
        Send(email, "Your password reset code", "Your DiffusionGallery password reset code:", null, resetCode);

    private Task Send(string to, string subject, string intro, string? htmlEncodedLink, string? code = null)
    {
        var link = htmlEncodedLink is null ? null : WebUtility.HtmlDecode(htmlEncodedLink);
        var message = new MimeMessage { Subject = subject };
        message.From.Add(MailboxAddress.Parse(options.Value.Sender));
        message.To.Add(MailboxAddress.Parse(to));
        var text = $"{intro}\n\n{link ?? code}\n\nIf you did not ask for this, ignore this message.\n";
        var html = $"<p>{WebUtility.HtmlEncode(intro)}</p>"
            + (link is null ? $"<p><strong>{WebUtility.HtmlEncode(code)}</strong></p>" : $"<p><a href=\"{WebUtility.HtmlEncode(link)}\">{WebUtility.HtmlEncode(link)}</a></p>")
            + "<p>If you did not ask for this, ignore this message.</p>";
        message.Body = new BodyBuilder { TextBody = text, HtmlBody = html }.ToMessageBody();
        queue.Enqueue(message);
        return Task.CompletedTask;
    }
}
