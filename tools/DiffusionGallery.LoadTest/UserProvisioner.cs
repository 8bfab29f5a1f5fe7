using System.Net;
using System.Net.Http.Json;
using System.Text.RegularExpressions;

namespace DiffusionGallery.LoadTest;

/// <summary>
/// Personal access tokens for N users: read from the token file, and for the missing ones an account is registered
/// through the real sign-up form (as scripts/api-smoke.py does) and a token created with its cookie (POST /api/tokens),
/// then appended to the file. Per user that is one rate-limited request (the form POST; the app allows 30 a minute per
/// address by default); users are created one at a time, and a 429 is waited out for its Retry-After, then retried.
/// With a token file, later runs register nobody.
/// </summary>
public sealed partial class UserProvisioner(Uri baseUrl, Action<string> log)
{
    public const string Password = "load test passphrase";

    /// <summary>How many accounts this instance registered (0 when the token file had enough).</summary>
    public int Registered { get; private set; }
    /// <summary>How many times a registration was throttled (429) and retried.</summary>
    public int Throttled { get; private set; }

    public async Task<IReadOnlyList<string>> GetTokensAsync(int users, string? tokenFile, CancellationToken cancellationToken)
    {
        var tokens = tokenFile is not null && File.Exists(tokenFile)
            ? (await File.ReadAllLinesAsync(tokenFile, cancellationToken)).Select(t => t.Trim()).Where(t => t.Length > 0).ToList()
            : [];
        while (tokens.Count < users)
        {
            var token = await RegisterAsync(cancellationToken);
            tokens.Add(token);
            if (tokenFile is not null) await File.AppendAllLinesAsync(tokenFile, [token], cancellationToken);
            if (Registered % 10 == 0) log($"registered {Registered} users");
        }
        return tokens.Take(users).ToList();
    }

    private async Task<string> RegisterAsync(CancellationToken cancellationToken)
    {
        using var handler = new HttpClientHandler { CookieContainer = new CookieContainer(), AllowAutoRedirect = false };
        using var http = new HttpClient(handler) { BaseAddress = baseUrl, Timeout = TimeSpan.FromSeconds(60) };
        var email = $"load-{Guid.NewGuid():N}"[..17] + "@example.test";
        while (true)
        {
            var page = await http.GetStringAsync("Account/Register", cancellationToken);
            var antiforgery = AntiforgeryField().Match(page) is { Success: true } m
                ? WebUtility.HtmlDecode(m.Groups[1].Value)
                : throw new LoadTestException("registration", "The register page has no antiforgery token.");
            using var form = new FormUrlEncodedContent(new Dictionary<string, string>
            {
                ["__RequestVerificationToken"] = antiforgery, ["_handler"] = "register",
                ["Input.Email"] = email, ["Input.Password"] = Password, ["Input.ConfirmPassword"] = Password,
            });
            using var response = await http.PostAsync("Account/Register", form, cancellationToken);
            if (response.StatusCode == HttpStatusCode.TooManyRequests)
            {
                var wait = response.Headers.RetryAfter?.Delta ?? TimeSpan.FromSeconds(5);
                Throttled++;
                log($"registration throttled (429); waiting {wait.TotalSeconds:0} s as Retry-After asks");
                await Task.Delay(wait, cancellationToken);
                continue;
            }
            if ((int)response.StatusCode >= 400)
                throw new LoadTestException("registration", $"Registering {email} answered {(int)response.StatusCode}.");
            break;
        }
        using var created = await http.PostAsJsonAsync("api/tokens", new { name = "load test" }, Json.Web, cancellationToken);
        if (created.StatusCode != HttpStatusCode.Created)
            throw new LoadTestException("registration",
                $"Creating a token for {email} answered {(int)created.StatusCode} (was the account signed in? is e-mail confirmation required?).");
        var token = (await created.Content.ReadFromJsonAsync<CreatedToken>(Json.Web, cancellationToken))?.Token;
        Registered++;
        return token ?? throw new LoadTestException("registration", "The token answer had no token.");
    }

    [GeneratedRegex("name=\"__RequestVerificationToken\" value=\"([^\"]+)\"")]
    private static partial Regex AntiforgeryField();
}

/// <summary>A failure with a kind for the error tally (e.g. "http-500", "job-failed", "timeout").</summary>
public sealed class LoadTestException(string kind, string message, Exception? inner = null) : Exception(message, inner)
{
    public string Kind { get; } = kind;
}
