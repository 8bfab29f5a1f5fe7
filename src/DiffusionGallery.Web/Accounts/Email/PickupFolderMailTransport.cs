using DiffusionGallery.Web.Options;
using Microsoft.Extensions.Options;
using MimeKit;

namespace DiffusionGallery.Web.Accounts.Email;

/// <summary>Without SMTP: writes each message as an .eml file (open it with any mail program) and logs where.</summary>
public sealed class PickupFolderMailTransport(IOptions<EmailOptions> options, TimeProvider time, ILogger<PickupFolderMailTransport> logger) : IMailTransport
{
    public string Folder => AppPaths.Resolve(options.Value.PickupDirectory);

    public async Task DeliverAsync(MimeMessage message, CancellationToken cancellationToken)
    {
        Directory.CreateDirectory(Folder);
        var name = $"{time.GetUtcNow():yyyyMMdd-HHmmss}-{Guid.NewGuid():N}.eml";
        var path = Path.Combine(Folder, name);
        var temp = path + ".tmp";
        await message.WriteToAsync(temp, cancellationToken);
        File.Move(temp, path);
        logger.LogInformation("No SMTP host is configured (Email:Host): wrote \"{Subject}\" to {Path}", message.Subject, path);
    }
}
