using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using MimeKit;

namespace DiffusionGallery.Web.Tests.Accounts;

/// <summary>
/// A real SMTP server on loopback: Debian's python3-aiosmtpd, storing what it receives in a Maildir
/// (<c>apt-get install python3-aiosmtpd</c>; .ci/run installs it).
/// </summary>
public sealed class LoopbackSmtpServer : IAsyncDisposable
{
    private readonly Process _process;
    private readonly string _maildir;

    private LoopbackSmtpServer(Process process, string maildir, int port)
    {
        _process = process;
        _maildir = maildir;
        Port = port;
    }

    public int Port { get; }

    /// <summary>Debian's interpreter, which has the Debian package's module (a pyenv python3 on PATH would not).</summary>
    public static string Python => File.Exists("/usr/bin/python3") ? "/usr/bin/python3" : "python3";

    public static async Task<LoopbackSmtpServer> StartAsync()
    {
        var port = FreePort();
        // aiosmtpd creates the Maildir (cur/, new/, tmp/) only when the folder does not exist yet.
        var maildir = Path.Combine(Directory.CreateTempSubdirectory("dg-smtp-").FullName, "maildir");
        var process = Process.Start(new ProcessStartInfo(Python, ["-m", "aiosmtpd", "-n", "-l", $"127.0.0.1:{port}", "-c", "aiosmtpd.handlers.Mailbox", maildir])
        {
            RedirectStandardError = true,
            RedirectStandardOutput = true,
        }) ?? throw new InvalidOperationException("could not start aiosmtpd");
        var server = new LoopbackSmtpServer(process, maildir, port);
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (true)
        {
            if (process.HasExited)
                throw new InvalidOperationException($"aiosmtpd exited ({process.ExitCode}): {await process.StandardError.ReadToEndAsync()} — is python3-aiosmtpd installed?");
            try
            {
                using var probe = new TcpClient();
                await probe.ConnectAsync(IPAddress.Loopback, port);
                return server;
            }
            catch (SocketException) when (DateTime.UtcNow < deadline)
            {
                await Task.Delay(100);
            }
        }
    }

    /// <summary>Waits for the next message to <paramref name="to"/> whose subject contains <paramref name="subject"/>.</summary>
    public async Task<MimeMessage> WaitForMessageAsync(string to, string subject, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            var arrived = Path.Combine(_maildir, "new");
            foreach (var file in Directory.Exists(arrived) ? Directory.EnumerateFiles(arrived) : [])
            {
                var message = await MimeMessage.LoadAsync(file);
                if (message.To.Mailboxes.Any(m => m.Address == to) && (message.Subject ?? "").Contains(subject, StringComparison.Ordinal))
                {
                    File.Delete(file);
                    return message;
                }
            }
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"no \"{subject}\" message to {to} within {timeout}");
            await Task.Delay(100);
        }
    }

    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }
        _process.Dispose();
        try { Directory.Delete(Path.GetDirectoryName(_maildir)!, recursive: true); } catch (IOException) { }
    }
}
