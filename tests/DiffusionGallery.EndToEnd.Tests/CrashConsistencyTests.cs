using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace DiffusionGallery.EndToEnd.Tests;

/// <summary>
/// Defect 3, for real: the published app is killed with SIGKILL while it works on batch-4 / 2-step jobs, six times,
/// restarted each time on the same data folder. Afterwards every image file has its row and every row its files, no
/// temporary file is left, and each job has its images exactly once (or failed cleanly after two interruptions).
/// </summary>
public sealed partial class CrashConsistencyTests(ITestOutputHelper output) : IAsyncLifetime
{
    private const string Password = "a long enough passphrase";
    private const int Batch = 4;
    private readonly AppProcess _app = new();
    private readonly CookieContainer _cookies = new();
    private HttpClient _http = null!;

    public ValueTask InitializeAsync() => _app.InitializeAsync();

    public async ValueTask DisposeAsync()
    {
        _http?.Dispose();
        await _app.DisposeAsync();
    }

    private HttpClient NewClient() => new(new HttpClientHandler { CookieContainer = _cookies, AllowAutoRedirect = false }) { BaseAddress = _app.BaseUrl };

    [GeneratedRegex("""<input[^>]*type="hidden"[^>]*name="(?<name>[^"]+)"[^>]*value="(?<value>[^"]*)"[^>]*>""")]
    private static partial Regex HiddenInput();

    [GeneratedRegex(@"Storage sweep removed (?<temps>\d+) temporary and (?<orphans>\d+) orphan")]
    private static partial Regex SweepLine();

    private async Task PostFormAsync(string path, Dictionary<string, string> fields)
    {
        var page = await _http.GetStringAsync(path);
        var form = new Dictionary<string, string>();
        foreach (Match hidden in HiddenInput().Matches(page))
            form.TryAdd(WebUtility.HtmlDecode(hidden.Groups["name"].Value), WebUtility.HtmlDecode(hidden.Groups["value"].Value));
        foreach (var (key, value) in fields) form[key] = value;
        var response = await _http.PostAsync(path, new FormUrlEncodedContent(form));
        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
    }

    private async Task RestartAndSignInAsync(string email)
    {
        await _app.KillAsync();
        await _app.StartAsync();
        _http.Dispose();
        _http = NewClient();
        await PostFormAsync("Account/Login", new() { ["Input.Email"] = email, ["Input.Password"] = Password });
    }

    [Fact]
    public async Task KilledSixTimesDuringBatchWork_NoOrphanFiles_NoImageStoredTwice()
    {
        _http = NewClient();
        var email = $"crash-{Guid.NewGuid():N}@example.test";
        await PostFormAsync("Account/Register", new() { ["Input.Email"] = email, ["Input.Password"] = Password, ["Input.ConfirmPassword"] = Password });

        var jobs = new List<Guid>();
        var random = new Random(20261206);
        for (var kill = 0; kill < 6; kill++)
        {
            for (var i = 0; i < 4; i++)
            {
                var response = await _http.PostAsJsonAsync("api/generations", new { prompt = "a red circle on a blue background", steps = 2, batchCount = Batch, seed = kill * 10 + i });
                if (response.StatusCode == HttpStatusCode.Accepted)
                    jobs.Add((await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetGuid());
                else
                    Assert.Equal(HttpStatusCode.TooManyRequests, response.StatusCode); // the per-user queue limit
            }
            await Task.Delay(random.Next(150, 1500));
            await RestartAndSignInAsync(email);
        }

        var finished = new Dictionary<Guid, JsonElement>();
        var deadline = DateTime.UtcNow.AddMinutes(3);
        while (finished.Count < jobs.Count)
        {
            Assert.True(DateTime.UtcNow < deadline, $"{jobs.Count - finished.Count} jobs did not finish:\n{_app.Output}");
            foreach (var id in jobs.Where(j => !finished.ContainsKey(j)))
            {
                var job = await _http.GetFromJsonAsync<JsonElement>($"api/generations/{id}");
                if (job.GetProperty("state").GetString() is "Succeeded" or "Failed" or "Cancelled") finished[id] = job;
            }
            await Task.Delay(250);
        }

        var rows = new HashSet<Guid>();
        for (var page = 1; ; page++)
        {
            var images = await _http.GetFromJsonAsync<JsonElement>($"api/images?page={page}&pageSize=100");
            var items = images.GetProperty("items").EnumerateArray().Select(i => i.GetProperty("id").GetGuid()).ToList();
            rows.UnionWith(items);
            if (items.Count < 100) break;
        }
        var root = Path.Combine(_app.DataDir, "images");
        var files = Directory.EnumerateFiles(root, "*", SearchOption.AllDirectories).Select(Path.GetFileName).ToList();
        var states = finished.Values.GroupBy(j => j.GetProperty("state").GetString()).Select(g => $"{g.Count()} {g.Key}");
        var swept = SweepLine().Matches(_app.Output).Select(m => $"{m.Groups["temps"].Value} tmp + {m.Groups["orphans"].Value} orphan");
        output.WriteLine($"{jobs.Count} jobs: {string.Join(", ", states)}; {rows.Count} image rows, {files.Count(f => f!.EndsWith(".png", StringComparison.Ordinal))} PNGs, " +
            $"{files.Count(f => f!.EndsWith(".thumb.webp", StringComparison.Ordinal))} thumbnails, {files.Count(f => f!.EndsWith(".tmp", StringComparison.Ordinal))} .tmp left; " +
            $"start-up sweeps removed: [{string.Join("; ", swept)}]");
        Assert.DoesNotContain(files, f => f!.EndsWith(".tmp", StringComparison.Ordinal));
        var pngs = files.Where(f => f!.EndsWith(".png", StringComparison.Ordinal)).Select(f => Guid.ParseExact(f![..32], "N")).ToHashSet();
        var thumbs = files.Where(f => f!.EndsWith(".thumb.webp", StringComparison.Ordinal)).Select(f => Guid.ParseExact(f![..32], "N")).ToHashSet();
        Assert.Equal(rows.Order(), pngs.Order());   // no orphan PNG, no row without its PNG
        Assert.Equal(rows.Order(), thumbs.Order()); // likewise for thumbnails

        foreach (var (id, job) in finished)
        {
            var state = job.GetProperty("state").GetString();
            var count = job.GetProperty("images").GetArrayLength();
            if (state == "Succeeded") Assert.Equal(Batch, count); // once, never twice
            else Assert.True(state == "Failed" && count == 0 && job.GetProperty("error").GetString()!.Contains("stopped twice"), $"job {id}: {job}");
        }
        Assert.Contains(finished.Values, j => j.GetProperty("state").GetString() == "Succeeded");
        Assert.Equal(rows.Count, finished.Values.Sum(j => j.GetProperty("images").GetArrayLength()));
    }
}
