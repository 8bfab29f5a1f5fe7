using Microsoft.Extensions.Options;
using MimeKit;

namespace DiffusionGallery.Web.Accounts.Email;

/// <summary>Delivers queued mail off the request path, retrying a failed delivery with growing pauses.</summary>
public sealed class EmailDispatcher(EmailQueue queue, IMailTransport transport, IOptions<EmailOptions> options, ILogger<EmailDispatcher> logger)
    : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        await foreach (var message in queue.Reader.ReadAllAsync(stoppingToken))
        {
            await DeliverWithRetriesAsync(message, stoppingToken);
        }
    }

    private async Task DeliverWithRetriesAsync(MimeMessage message, CancellationToken stoppingToken)
    {
        var attempts = options.Value.MaxAttempts;
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                await transport.DeliverAsync(message, stoppingToken);
                return;
            }
            catch (Exception ex) when (ex is not OperationCanceledException || !stoppingToken.IsCancellationRequested)
            {
                if (attempt >= attempts)
                {
                    logger.LogError(ex, "Gave up on \"{Subject}\" after {Attempts} attempts", message.Subject, attempt);
                    return;
                }
                var pause = TimeSpan.FromSeconds(Math.Pow(3, attempt - 1));
                logger.LogWarning(ex, "Could not deliver \"{Subject}\" (attempt {Attempt} of {Attempts}); retrying in {Pause}", message.Subject, attempt, attempts, pause);
                await Task.Delay(pause, stoppingToken);
            }
        }
    }
}
