using System.Threading.Channels;
using MimeKit;

namespace DiffusionGallery.Web.Accounts.Email;

/// <summary>
/// Messages waiting to go out. Requests only add to it (never wait on SMTP); <see cref="EmailDispatcher"/> delivers.
/// </summary>
public sealed class EmailQueue(ILogger<EmailQueue> logger)
{
    public const int Capacity = 1000;

    private readonly Channel<MimeMessage> _channel = Channel.CreateBounded<MimeMessage>(
        new BoundedChannelOptions(Capacity) { FullMode = BoundedChannelFullMode.Wait, SingleReader = true });

    public ChannelReader<MimeMessage> Reader => _channel.Reader;

    /// <returns>False when the queue is full (the message is dropped and logged).</returns>
    public bool Enqueue(MimeMessage message)
    {
        if (_channel.Writer.TryWrite(message)) return true;
        logger.LogError("The e-mail queue is full ({Capacity}); dropped \"{Subject}\"", Capacity, message.Subject);
        return false;
    }
}
