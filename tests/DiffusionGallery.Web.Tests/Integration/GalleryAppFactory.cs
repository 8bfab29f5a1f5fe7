using System.Net;
using System.Text.Json;
using System.Text.Json.Serialization;
using System.Text.RegularExpressions;
using DiffusionGallery.Web.Accounts;
using DiffusionGallery.Web.Data;
using DiffusionGallery.Web.Tests.Support;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http.Connections;
using Microsoft.AspNetCore.Identity;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.AspNetCore.SignalR.Client;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace DiffusionGallery.Web.Tests.Integration;

/// <summary>
/// The real app: a temporary SQLite file and image folder, the bundled model from models/ on the CPU provider.
/// </summary>
public sealed partial class GalleryAppFactory : WebApplicationFactory<Program>
{
    public const string Password = "correct horse battery";
    public static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web) { Converters = { new JsonStringEnumConverter() } };

    private readonly bool _ownsFolder;

    public GalleryAppFactory() : this(Directory.CreateTempSubdirectory("dg-it-").FullName, ownsFolder: true) { }

    public GalleryAppFactory(string folder, bool ownsFolder = false)
    {
        Folder = folder;
        _ownsFolder = ownsFolder;
    }

    public string Folder { get; }
    public string DatabasePath => Path.Combine(Folder, "app.db");
    public string ImagesPath => Path.Combine(Folder, "images");
    public string MailPath => Path.Combine(Folder, "mail");
    public Dictionary<string, string?> Settings { get; } = [];
    public string Environment { get; init; } = "Development";

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        builder.UseEnvironment(Environment);
        builder.UseSetting("Database:ConnectionString", $"Data Source={DatabasePath}");
        builder.UseSetting("Storage:Root", ImagesPath);
        builder.UseSetting("Inference:ModelsRoot", RepoPaths.Models);
        builder.UseSetting("Inference:Provider", "Cpu");
        builder.UseSetting("Inference:Threads", "2");
        builder.UseSetting("Logging:LogLevel:Default", "Warning");
        builder.UseSetting("Logging:LogLevel:Microsoft.AspNetCore", "Error");
        // Every test client shares one (unknown) address: the account rate limit is tested on its own (AccountRateLimitTests).
        builder.UseSetting("AccountRateLimits:PerAddressPermitLimit", "1000000");
        builder.UseSetting("AccountRateLimits:PerAccountPermitLimit", "1000000");
        builder.UseSetting("Email:PickupDirectory", MailPath);
        foreach (var (key, value) in Settings) builder.UseSetting(key, value);
    }

    public ApplicationDbContext CreateDbContext() => Services.GetRequiredService<IDbContextFactory<ApplicationDbContext>>().CreateDbContext();

    /// <summary>Registers through the real static-rendered form (antiforgery included) and returns a signed-in client.</summary>
    public async Task<(HttpClient Client, string UserId)> RegisterAsync(string email, string password = Password)
    {
        var client = CreateClient(new WebApplicationFactoryClientOptions { AllowAutoRedirect = false, HandleCookies = true });
        var response = await PostFormAsync(client, "/Account/Register", new()
        {
            ["Input.Email"] = email,
            ["Input.Password"] = password,
            ["Input.ConfirmPassword"] = password,
        });
        if (response.StatusCode != HttpStatusCode.Redirect)
            throw new InvalidOperationException($"Registration of {email} failed: {response.StatusCode} {await response.Content.ReadAsStringAsync()}");
        await using var db = CreateDbContext();
        var user = await db.Users.SingleAsync(u => u.Email == email);
        return (client, user.Id);
    }

    /// <summary>GETs a static form page, then POSTs it back with its hidden fields (antiforgery token, handler) plus the given fields.</summary>
    public static async Task<HttpResponseMessage> PostFormAsync(HttpClient client, string path, Dictionary<string, string> fields, bool includeAntiforgery = true)
    {
        var page = await (await client.GetAsync(path)).Content.ReadAsStringAsync();
        var form = new Dictionary<string, string>();
        foreach (Match hidden in HiddenInput().Matches(page))
        {
            var name = WebUtility.HtmlDecode(hidden.Groups["name"].Value);
            if (!includeAntiforgery && name == "__RequestVerificationToken") continue;
            form.TryAdd(name, WebUtility.HtmlDecode(hidden.Groups["value"].Value));
        }
        foreach (var (key, value) in fields) form[key] = value;
        return await client.PostAsync(path, new FormUrlEncodedContent(form));
    }

    [GeneratedRegex("""<input[^>]*type="hidden"[^>]*name="(?<name>[^"]+)"[^>]*value="(?<value>[^"]*)"[^>]*>""")]
    private static partial Regex HiddenInput();

    public async Task<string> CreateTokenAsync(string userId, string name = "tests") =>
        (await Services.GetRequiredService<PersonalAccessTokenService>().CreateAsync(userId, name)).Secret;

    public HttpClient CreateTokenClient(string token)
    {
        var client = CreateClient(new WebApplicationFactoryClientOptions { AllowAutoRedirect = false, HandleCookies = false });
        client.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", token);
        return client;
    }

    /// <summary>A SignalR .NET client on /hubs/generation, authenticated by a personal access token.</summary>
    public async Task<HubConnection> ConnectHubAsync(string token, HttpTransportType transport = HttpTransportType.LongPolling)
    {
        var connection = new HubConnectionBuilder()
            .WithUrl(new Uri(Server.BaseAddress, "hubs/generation"), options =>
            {
                options.HttpMessageHandlerFactory = _ => Server.CreateHandler();
                options.Transports = transport;
                // Long polling sends the token as a Bearer header; over WebSockets it goes in ?access_token=, as
                // browsers (which cannot set WebSocket headers) send it.
                options.WebSocketFactory = async (context, cancellationToken) =>
                {
                    var uri = new UriBuilder(context.Uri);
                    uri.Query = (uri.Query.Length > 1 ? uri.Query[1..] + "&" : "") + "access_token=" + Uri.EscapeDataString(token);
                    return await Server.CreateWebSocketClient().ConnectAsync(uri.Uri, cancellationToken);
                };
                options.SkipNegotiation = transport == HttpTransportType.WebSockets;
                options.AccessTokenProvider = () => Task.FromResult<string?>(token);
            })
            .AddJsonProtocol(o => o.PayloadSerializerOptions.Converters.Add(new JsonStringEnumConverter()))
            .Build();
        await connection.StartAsync();
        return connection;
    }

    /// <summary>
    /// A SignalR .NET client on /hubs/generation over a WebSocket (as browsers connect: the cookie is checked once, at
    /// the upgrade), authenticated by the cookies in <paramref name="cookies"/>.
    /// </summary>
    public async Task<HubConnection> ConnectHubWithCookiesAsync(CookieContainer cookies)
    {
        var connection = new HubConnectionBuilder()
            .WithUrl(new Uri(Server.BaseAddress, "hubs/generation"), options =>
            {
                options.Transports = HttpTransportType.WebSockets;
                options.SkipNegotiation = true;
                options.WebSocketFactory = async (context, cancellationToken) =>
                {
                    var client = Server.CreateWebSocketClient();
                    client.ConfigureRequest = request => request.Headers.Cookie = cookies.GetCookieHeader(Server.BaseAddress);
                    return await client.ConnectAsync(context.Uri, cancellationToken);
                };
            })
            .AddJsonProtocol(o => o.PayloadSerializerOptions.Converters.Add(new JsonStringEnumConverter()))
            .Build();
        await connection.StartAsync();
        return connection;
    }

    /// <summary>An HTTP client whose cookies live in <paramref name="cookies"/> (to share them with a hub connection).</summary>
    public HttpClient CreateClientWithCookies(CookieContainer cookies) =>
        CreateDefaultClient(new Microsoft.AspNetCore.Mvc.Testing.Handlers.CookieContainerHandler(cookies));

    /// <summary>Submits through the app's own <see cref="Web.Generation.SubmissionService"/>, as <paramref name="userId"/> (as a hub invocation would).</summary>
    public async Task<Data.Entities.GenerationJob> SubmitAsAsync(string userId, Data.Entities.GenerationSettings settings)
    {
        await using var scope = Services.CreateAsyncScope();
        scope.ServiceProvider.GetRequiredService<CurrentUser>().Use(new System.Security.Claims.ClaimsPrincipal(new System.Security.Claims.ClaimsIdentity(
            [new System.Security.Claims.Claim(System.Security.Claims.ClaimTypes.NameIdentifier, userId)], "test")));
        return await scope.ServiceProvider.GetRequiredService<Web.Generation.SubmissionService>().SubmitAsync(new Web.Generation.SubmitCommand(settings));
    }

    public async Task<bool> IsInRoleAsync(string userId, string role)
    {
        using var scope = Services.CreateScope();
        var users = scope.ServiceProvider.GetRequiredService<UserManager<ApplicationUser>>();
        return await users.IsInRoleAsync((await users.FindByIdAsync(userId))!, role);
    }

    public override async ValueTask DisposeAsync()
    {
        await base.DisposeAsync();
        SqliteConnection.ClearAllPools();
        if (_ownsFolder)
        {
            try { Directory.Delete(Folder, recursive: true); } catch (IOException) { }
        }
    }
}
