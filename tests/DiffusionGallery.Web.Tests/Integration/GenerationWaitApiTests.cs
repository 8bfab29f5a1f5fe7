using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;

namespace DiffusionGallery.Web.Tests.Integration;

/// <summary>REST's long poll, <c>GET /api/generations/{id}?wait=N</c>, through the real app and the bundled model on CPU.</summary>
public sealed class GenerationWaitApiTests(GenerationFlowTests.AppFixture fixture) : IClassFixture<GenerationFlowTests.AppFixture>
{
    private GalleryAppFactory App => fixture.App;

    private static async Task<Guid> SubmitAsync(HttpClient client, object body)
    {
        var response = await client.PostAsJsonAsync("/api/generations", body);
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        return (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetGuid();
    }

    private static async Task<(JsonElement Job, TimeSpan Took)> GetAsync(HttpClient client, Guid id, string query = "")
    {
        var clock = Stopwatch.StartNew();
        var job = await client.GetFromJsonAsync<JsonElement>($"/api/generations/{id}{query}");
        return (job, clock.Elapsed);
    }

    private static string State(JsonElement job) => job.GetProperty("state").GetString()!;

    [Fact]
    public async Task Wait_ReturnsAsSoonAsTheJobHasFinished_WithTheWorkersTimes()
    {
        var (client, _) = await App.RegisterAsync($"wait-{Guid.NewGuid():N}@example.test");
        var id = await SubmitAsync(client, new { prompt = "a red circle", steps = 8, seed = 5 });

        var (job, took) = await GetAsync(client, id, "?wait=30");

        Assert.Equal("Succeeded", State(job));
        Assert.True(took < TimeSpan.FromSeconds(25), $"took {took}"); // the finish woke it, not the 30 s
        Assert.Equal(1, job.GetProperty("images").GetArrayLength());
        var created = job.GetProperty("createdAt").GetDateTimeOffset();
        var started = job.GetProperty("startedAt").GetDateTimeOffset();
        var finished = job.GetProperty("finishedAt").GetDateTimeOffset();
        Assert.True(started >= created, $"queued at {created:O}, started at {started:O}");
        Assert.True(finished >= started);
        // A finished job answers at once.
        var (again, quick) = await GetAsync(client, id, "?wait=30");
        Assert.Equal("Succeeded", State(again));
        Assert.True(quick < TimeSpan.FromSeconds(5), $"took {quick}");
    }

    [Fact]
    public async Task Wait_TimesOut_WithTheRunningState_ThenWakesOnCancel()
    {
        var (client, _) = await App.RegisterAsync($"wait-{Guid.NewGuid():N}@example.test");
        // Long enough on any CPU: 4 images of 256², 100 steps.
        var id = await SubmitAsync(client, new { prompt = "a blue square", steps = 100, seed = 6, batchCount = 4, width = 256, height = 256 });
        await GenerationFlowTests.WaitUntilAsync(async () => State((await GetAsync(client, id)).Job) == "Running", seconds: 120);

        var (job, took) = await GetAsync(client, id, "?wait=1");

        Assert.Equal("Running", State(job));
        Assert.True(took >= TimeSpan.FromSeconds(0.95), $"took {took}");
        Assert.Equal(JsonValueKind.Null, job.GetProperty("finishedAt").ValueKind);
        Assert.Equal(HttpStatusCode.Accepted, (await client.DeleteAsync($"/api/generations/{id}")).StatusCode);
        var (cancelled, _) = await GetAsync(client, id, "?wait=30");
        Assert.Equal("Cancelled", State(cancelled));
    }

    [Theory]
    [InlineData("abc")]
    [InlineData("-1")]
    [InlineData("31")]
    [InlineData("1.5")]
    [InlineData("+2")]
    public async Task Wait_NotWholeSecondsFrom0To30_Is400NamingTheField(string wait)
    {
        var (client, _) = await App.RegisterAsync($"wait-{Guid.NewGuid():N}@example.test");
        var id = await SubmitAsync(client, new { prompt = "a red circle", steps = 4, seed = 1 });

        var response = await client.GetAsync($"/api/generations/{id}?wait={Uri.EscapeDataString(wait)}");

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var problem = await response.Content.ReadFromJsonAsync<JsonElement>();
        var message = Assert.Single(problem.GetProperty("errors").GetProperty("wait").EnumerateArray()).GetString();
        Assert.Equal("wait must be a whole number of seconds from 0 to 30.", message);
    }

    [Fact]
    public async Task Wait_OnAnotherUsersJob_Is404AtOnce()
    {
        var (owner, _) = await App.RegisterAsync($"wait-{Guid.NewGuid():N}@example.test");
        var (other, _) = await App.RegisterAsync($"wait-{Guid.NewGuid():N}@example.test");
        // A job that cannot finish within the second (4 images of 256², 100 steps): an answer in < 1 s did not wait for it.
        var id = await SubmitAsync(owner, new { prompt = "a red circle", steps = 100, seed = 2, batchCount = 4, width = 256, height = 256 });

        var clock = Stopwatch.StartNew();
        var response = await other.GetAsync($"/api/generations/{id}?wait=10");
        var took = clock.Elapsed;
        await owner.DeleteAsync($"/api/generations/{id}"); // (not left running for the other tests)

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.True(took < TimeSpan.FromSeconds(1), $"took {took}");
    }
}
