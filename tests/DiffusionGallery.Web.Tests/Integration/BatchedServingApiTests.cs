using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using DiffusionGallery.Web.Data.Entities;
using Microsoft.EntityFrameworkCore;

namespace DiffusionGallery.Web.Tests.Integration;

/// <summary>
/// Shared runs through the real app, REST, SQLite and the bundled model on CPU. One run in flight, so jobs submitted
/// while a longer job (another step count: another batch key) runs are waiting together when the worker takes its next run.
/// </summary>
public sealed class BatchedServingApiTests : IAsyncLifetime
{
    private readonly GalleryAppFactory _app = new() { Settings = { ["Generation:RunsInFlight"] = "1" } };

    public ValueTask InitializeAsync() { _ = _app.Server; return ValueTask.CompletedTask; }
    public ValueTask DisposeAsync() => _app.DisposeAsync();

    private static string NewEmail() => $"user-{Guid.NewGuid():N}@example.test";

    private static async Task<Guid> SubmitAsync(HttpClient client, object body)
    {
        var response = await client.PostAsJsonAsync("/api/generations", body);
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        return (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetGuid();
    }

    private static async Task<JsonElement> GetAsync(HttpClient client, Guid id) =>
        await client.GetFromJsonAsync<JsonElement>($"/api/generations/{id}");

    private static async Task<JsonElement> WaitForStateAsync(HttpClient client, Guid id, params string[] states)
    {
        JsonElement job = default;
        await GenerationFlowTests.WaitUntilAsync(async () =>
        {
            job = await GetAsync(client, id);
            return states.Contains(job.GetProperty("state").GetString());
        }, seconds: 120);
        return job;
    }

    /// <summary>A long job of its own key keeps the worker busy while the jobs under test queue up.</summary>
    private async Task<(HttpClient Client, Guid Job)> StartBlockerAsync()
    {
        var (client, _) = await _app.RegisterAsync(NewEmail());
        var job = await SubmitAsync(client, new { prompt = "a blue square", steps = 60, seed = 1 });
        await WaitForStateAsync(client, job, "Running", "Succeeded");
        return (client, job);
    }

    [Fact]
    public async Task TwoUsersSubmittingAtOnce_ShareOneUNetCall_GetReportsBatchSize2()
    {
        var (blockerClient, blocker) = await StartBlockerAsync();
        var (a, _) = await _app.RegisterAsync(NewEmail());
        var (b, _) = await _app.RegisterAsync(NewEmail());
        Assert.Equal(JsonValueKind.Null, (await GetAsync(blockerClient, blocker)).GetProperty("batchSize").ValueKind); // null until run

        var jobA = await SubmitAsync(a, new { prompt = "a red circle", steps = 12, seed = 3 });
        var jobB = await SubmitAsync(b, new { prompt = "a green triangle", steps = 12, seed = 4 });
        Assert.Equal(JsonValueKind.Null, (await GetAsync(a, jobA)).GetProperty("batchSize").ValueKind);

        var finalA = await WaitForStateAsync(a, jobA, "Succeeded", "Failed", "Cancelled");
        var finalB = await WaitForStateAsync(b, jobB, "Succeeded", "Failed", "Cancelled");
        var finalBlocker = await WaitForStateAsync(blockerClient, blocker, "Succeeded", "Failed", "Cancelled");

        Assert.Equal("Succeeded", finalA.GetProperty("state").GetString());
        Assert.Equal("Succeeded", finalB.GetProperty("state").GetString());
        Assert.Equal(2, finalA.GetProperty("batchSize").GetInt32());
        Assert.Equal(2, finalB.GetProperty("batchSize").GetInt32());
        Assert.Equal(1, finalBlocker.GetProperty("batchSize").GetInt32());
        Assert.Equal(1, finalA.GetProperty("images").GetArrayLength());
    }

    [Fact]
    public async Task CancellingOneJobOfASharedRunOverRest_CancelsAndRefundsOnlyIt_TheOthersGetTheirImages()
    {
        await StartBlockerAsync();
        var (a, _) = await _app.RegisterAsync(NewEmail());
        var (b, userB) = await _app.RegisterAsync(NewEmail());
        var (c, _) = await _app.RegisterAsync(NewEmail());
        var jobA = await SubmitAsync(a, new { prompt = "a red circle", steps = 100, seed = 3 });
        var jobB = await SubmitAsync(b, new { prompt = "a green triangle", steps = 100, seed = 4 });
        var jobC = await SubmitAsync(c, new { prompt = "a yellow square", steps = 100, seed = 5 });

        await WaitForStateAsync(b, jobB, "Running");
        Assert.Equal(HttpStatusCode.NotFound, (await a.DeleteAsync($"/api/generations/{jobB}")).StatusCode); // not A's job
        Assert.Equal(HttpStatusCode.Accepted, (await b.DeleteAsync($"/api/generations/{jobB}")).StatusCode);

        var finalB = await WaitForStateAsync(b, jobB, "Succeeded", "Failed", "Cancelled");
        var finalA = await WaitForStateAsync(a, jobA, "Succeeded", "Failed", "Cancelled");
        var finalC = await WaitForStateAsync(c, jobC, "Succeeded", "Failed", "Cancelled");
        Assert.Equal("Cancelled", finalB.GetProperty("state").GetString());
        Assert.Equal(0, finalB.GetProperty("images").GetArrayLength());
        Assert.Equal("Succeeded", finalA.GetProperty("state").GetString());
        Assert.Equal("Succeeded", finalC.GetProperty("state").GetString());
        Assert.Equal(1, finalA.GetProperty("images").GetArrayLength());
        Assert.Equal(1, finalC.GetProperty("images").GetArrayLength());
        await using var db = _app.CreateDbContext();
        Assert.Equal(1, (await db.UsageEntries.SingleAsync(u => u.JobId == jobB && u.Kind == UsageKind.Refund)).Images);
        Assert.False(await db.GeneratedImages.AnyAsync(i => i.OwnerId == userB));
    }
}
