using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using DiffusionGallery.Web.Tests.Support;

namespace DiffusionGallery.EndToEnd.Tests;

/// <summary>
/// Runs the published web app (DG_E2E_APP_DIR, as scripts/test.sh publishes it; otherwise this fixture publishes it)
/// as a real process on a free port, with a temporary database and image folder and the bundled model on CPU.
/// </summary>
public class AppProcess : IAsyncLifetime
{
    private Process? _process;
    private readonly StringBuilder _output = new();

    public string AppDir { get; private set; } = "";
    public string DataDir { get; } = Directory.CreateTempSubdirectory("dg-e2e-").FullName;
    public Uri BaseUrl { get; private set; } = null!;
    /// <summary>Where the app writes its e-mail (.eml files; no SMTP host is configured).</summary>
    public string MailDir => Path.Combine(DataDir, "mail");
    public string Output { get { lock (_output) return _output.ToString(); } }

    /// <summary>Open tabs per account; low, so a test can reach it.</summary>
    public const int MaxCircuitsPerUser = 3;

    public async ValueTask InitializeAsync() => await StartAsync();

    /// <summary>Starts the app (again, after <see cref="KillAsync"/>: same data folder, new port) and waits until it is healthy.</summary>
    public async Task StartAsync()
    {
        var port = FreePort();
        BaseUrl = new Uri($"http://127.0.0.1:{port}/");
        var start = await CreateStartInfoAsync();
        start.WorkingDirectory = DataDir;
        start.RedirectStandardOutput = true;
        start.RedirectStandardError = true;
        start.Environment["ASPNETCORE_URLS"] = BaseUrl.ToString().TrimEnd('/');
        start.Environment["ASPNETCORE_ENVIRONMENT"] = "Production";
        start.Environment["Database__ConnectionString"] = $"Data Source={Path.Combine(DataDir, "app.db")}";
        start.Environment["Storage__Root"] = Path.Combine(DataDir, "images");
        start.Environment["Uploads__Root"] = Path.Combine(DataDir, "uploads");
        start.Environment["Inference__ModelsRoot"] = RepoPaths.Models;
        start.Environment["Inference__Provider"] = "Cpu";
        // Two inference threads whatever the machine: the journeys that cancel or watch previews need a job to
        // last long enough, which a many-core CI machine would otherwise not guarantee.
        start.Environment["Inference__Threads"] = "2";
        start.Environment["Auth__MaxCircuitsPerUser"] = MaxCircuitsPerUser.ToString(System.Globalization.CultureInfo.InvariantCulture);
        // Every test signs in from 127.0.0.1: a higher per-address limit than the default 30 a minute (still a limit).
        start.Environment["AccountRateLimits__PerAddressPermitLimit"] = "300";
        start.Environment["Email__PickupDirectory"] = MailDir;
        _process = Process.Start(start)!;
        _process.OutputDataReceived += (_, e) => { lock (_output) _output.AppendLine(e.Data); };
        _process.ErrorDataReceived += (_, e) => { lock (_output) _output.AppendLine(e.Data); };
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();

        using var http = new HttpClient();
        var deadline = DateTime.UtcNow.AddSeconds(180);
        while (true)
        {
            if (_process.HasExited) throw new InvalidOperationException("The app exited during start-up:\n" + Output);
            try
            {
                if ((await http.GetAsync(new Uri(BaseUrl, "healthz"))).StatusCode == HttpStatusCode.OK) break;
            }
            catch (HttpRequestException) { }
            if (DateTime.UtcNow > deadline) throw new TimeoutException("The app did not start:\n" + Output);
            await Task.Delay(250);
        }
    }

    /// <summary>How the app is started: here the published build (<c>dotnet DiffusionGallery.Web.dll</c>).</summary>
    protected virtual async Task<ProcessStartInfo> CreateStartInfoAsync()
    {
        AppDir = Environment.GetEnvironmentVariable("DG_E2E_APP_DIR") is { Length: > 0 } dir ? dir : await PublishAsync();
        return new ProcessStartInfo("dotnet", [Path.Combine(AppDir, "DiffusionGallery.Web.dll")]);
    }

    private static async Task<string> PublishAsync()
    {
        var output = Path.Combine(Path.GetTempPath(), "dg-e2e-publish");
        var publish = Process.Start(new ProcessStartInfo("dotnet", ["publish", Path.Combine(RepoPaths.Root, "src", "DiffusionGallery.Web"), "-c", "Release", "-o", output, "--nologo"])
        {
            RedirectStandardOutput = true,
        })!;
        var log = await publish.StandardOutput.ReadToEndAsync();
        await publish.WaitForExitAsync();
        if (publish.ExitCode != 0) throw new InvalidOperationException("dotnet publish failed:\n" + log);
        return output;
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    /// <summary>Kills the app as <c>kill -9</c> would (SIGKILL: no shutdown code runs).</summary>
    public async Task KillAsync()
    {
        if (_process is null) return;
        _process.Kill(entireProcessTree: true);
        await _process.WaitForExitAsync();
        _process.Dispose();
        _process = null;
    }

    public async ValueTask DisposeAsync()
    {
        if (_process is { HasExited: false })
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }
        _process?.Dispose();
        try { Directory.Delete(DataDir, recursive: true); } catch (IOException) { }
    }
}
