using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using DiffusionGallery.Web.Tests.Integration;
using Microsoft.AspNetCore.SignalR;
using Microsoft.EntityFrameworkCore;

namespace DiffusionGallery.Web.Tests.Errors;

/// <summary>
/// One mapping of domain errors per surface: REST answers <c>application/problem+json</c> (400 with field errors, 401,
/// 404, 429 with Retry-After), the hub a <see cref="HubException"/> with the same message. Defect 6: malformed JSON
/// gets problem+json naming the field, in Development and in Production.
/// </summary>
public sealed class ProblemDetailsTests(GenerationFlowTests.AppFixture fixture) : IClassFixture<GenerationFlowTests.AppFixture>
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static async Task<JsonElement> ReadProblemAsync(HttpResponseMessage response, HttpStatusCode status)
    {
        Assert.Equal(status, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        return (await response.Content.ReadFromJsonAsync<JsonElement>(Ct));
    }

    private static string[] FieldErrors(JsonElement problem, string field) =>
        problem.GetProperty("errors").GetProperty(field).EnumerateArray().Select(e => e.GetString()!).ToArray();

    [Theory]
    [InlineData("Development")]
    [InlineData("Production")]
    public async Task MalformedJson_AnswersProblemJsonNamingTheField_AndStoresNothing(string environment)
    {
        await using var app = new GalleryAppFactory { Environment = environment };
        var (_, userId) = await app.RegisterAsync($"json-{Guid.NewGuid():N}@example.test");
        using var api = app.CreateTokenClient(await app.CreateTokenAsync(userId));

        async Task<JsonElement> PostAsync(string body) =>
            await ReadProblemAsync(await api.PostAsync("/api/generations", new StringContent(body, Encoding.UTF8, "application/json"), Ct), HttpStatusCode.BadRequest);

        Assert.Contains("wrong type", Assert.Single(FieldErrors(await PostAsync("""{"prompt":"a red circle","seed":"abc"}"""), "seed")));
        Assert.Single(FieldErrors(await PostAsync("""{"prompt":"a red circle","steps":2.5}"""), "steps"));
        Assert.Single(FieldErrors(await PostAsync("""{"prompt":"a red circle","steps":"20"}"""), "steps")); // no numbers from strings
        Assert.Single(FieldErrors(await PostAsync("""{"prompt":"a red circle","sampler":"NoSuchSampler"}"""), "sampler"));
        Assert.Contains("not valid JSON", Assert.Single(FieldErrors(await PostAsync("""{"prompt": "a red circle", """), "body")));
        Assert.Contains("not valid JSON", Assert.Single(FieldErrors(await PostAsync(""), "body")));
        var notJson = await api.PostAsync("/api/generations", new StringContent("prompt=x", Encoding.UTF8, "application/x-www-form-urlencoded"), Ct);
        Assert.Equal(HttpStatusCode.UnsupportedMediaType, notJson.StatusCode); // the endpoint accepts application/json only

        await using var db = app.CreateDbContext();
        Assert.False(await db.GenerationJobs.AnyAsync(j => j.OwnerId == userId, Ct));
    }

    [Fact]
    public async Task UnknownSamplerName_Is400SayingItIsUnknown_AndListingTheValidNames()
    {
        var (_, userId) = await fixture.App.RegisterAsync($"sampler-{Guid.NewGuid():N}@example.test");
        using var api = fixture.App.CreateTokenClient(await fixture.App.CreateTokenAsync(userId));

        var problem = await ReadProblemAsync(await api.PostAsJsonAsync("/api/generations", new { prompt = "a red circle", sampler = "Bogus" }, Ct), HttpStatusCode.BadRequest);

        var message = Assert.Single(FieldErrors(problem, "sampler"));
        Assert.StartsWith("Unknown sampler 'Bogus'. Valid names: ", message);
        Assert.All(Enum.GetNames<DiffusionGallery.Inference.Abstractions.SamplerKind>(), name => Assert.Contains(name, message));
        Assert.DoesNotContain("wrong type", message);
        // Names are read as before: any case, and the answer names them as declared.
        var accepted = await api.PostAsJsonAsync("/api/generations", new { prompt = "a red circle", sampler = "eulerancestral", steps = 2 }, Ct);
        Assert.Equal(HttpStatusCode.Accepted, accepted.StatusCode);
        var unknownFit = await ReadProblemAsync(await api.PostAsJsonAsync("/api/generations", new { prompt = "a red circle", fit = "Zoom" }, Ct), HttpStatusCode.BadRequest);
        Assert.Equal(["Unknown fit 'Zoom'. Valid names: Crop, Pad, Stretch."], FieldErrors(unknownFit, "fit"));

        // The hub reads the same object the same way: the same message, and names in any case still work.
        await using var hub = await HubTestClient.ConnectAsync(fixture.App, await fixture.App.CreateTokenAsync(userId));
        var hubError = await Assert.ThrowsAsync<HubException>(() => hub.SubmitAsync(new { prompt = "a red circle", sampler = "Bogus" }));
        Assert.Contains("Unknown sampler 'Bogus'. Valid names: ", hubError.Message);
        var wrongType = await Assert.ThrowsAsync<HubException>(() => hub.SubmitAsync(new { prompt = "a red circle", steps = "many" }));
        Assert.Contains("'steps' has the wrong type", wrongType.Message);
        var submitted = await hub.SubmitAsync(new { prompt = "a red circle", sampler = "eulerancestral", steps = 2 });
        Assert.NotEqual(Guid.Empty, submitted.JobId); // accepted
    }

    [Fact]
    public async Task Seed_NegativeOrOverTheLimit_Is400NamingTheRange_NullOrOmittedIsRandom()
    {
        var (_, userId) = await fixture.App.RegisterAsync($"seed-{Guid.NewGuid():N}@example.test");
        using var api = fixture.App.CreateTokenClient(await fixture.App.CreateTokenAsync(userId));
        var max = DiffusionGallery.Web.Generation.Seeds.Max;

        foreach (var seed in new[] { -5L, -1L, long.MinValue, max + 1, long.MaxValue })
        {
            var problem = await ReadProblemAsync(await api.PostAsJsonAsync("/api/generations", new { prompt = "a red circle", steps = 2, seed }, Ct), HttpStatusCode.BadRequest);
            Assert.Equal([$"Seed must be a whole number from 0 to {max}; leave it out (or null) for a random seed."], FieldErrors(problem, "seed"));
        }
        await using (var db = fixture.App.CreateDbContext())
            Assert.False(await db.GenerationJobs.AnyAsync(j => j.OwnerId == userId, Ct));

        foreach (var body in new object[] { new { prompt = "a red circle", steps = 2, seed = (long?)null }, new { prompt = "a red circle", steps = 2 },
                     new { prompt = "a red circle", steps = 2, seed = (long?)0 }, new { prompt = "a red circle", steps = 2, seed = (long?)max } })
            Assert.Equal(HttpStatusCode.Accepted, (await api.PostAsJsonAsync("/api/generations", body, Ct)).StatusCode);
        await using var check = fixture.App.CreateDbContext();
        var seeds = await check.GenerationJobs.Where(j => j.OwnerId == userId).Select(j => j.Settings.Seed).ToListAsync(Ct);
        Assert.Equal(4, seeds.Count);
        Assert.All(seeds, s => Assert.InRange(s, 0, max));
        Assert.Contains(max, seeds);
    }

    [Fact]
    public async Task InvalidSettings_AnswerOneMessagePerField_WithTheLimits()
    {
        var (_, userId) = await fixture.App.RegisterAsync($"fields-{Guid.NewGuid():N}@example.test");
        using var api = fixture.App.CreateTokenClient(await fixture.App.CreateTokenAsync(userId));

        var response = await api.PostAsJsonAsync("/api/generations", new { prompt = "a red circle", steps = 9999, guidanceScale = 999, temperature = 50 }, Ct);

        var problem = await ReadProblemAsync(response, HttpStatusCode.BadRequest);
        Assert.Equal(["Steps must be between 1 and 100."], FieldErrors(problem, "steps"));
        Assert.Equal(["CFG scale must be between 0 and 30."], FieldErrors(problem, "guidanceScale"));
        Assert.Equal(["Temperature must be between 0 and 2."], FieldErrors(problem, "temperature"));
    }

    [Fact]
    public async Task ControlCharactersInPrompt_RefusedWithAFieldMessage_NothingStored()
    {
        var (_, userId) = await fixture.App.RegisterAsync($"ctl-{Guid.NewGuid():N}@example.test");
        var token = await fixture.App.CreateTokenAsync(userId);
        using var api = fixture.App.CreateTokenClient(token);

        foreach (var prompt in new[] { "a red\u0000 circle", "a \u001b[31mred circle", "a red circle\u0007" })
        {
            var problem = await ReadProblemAsync(await api.PostAsJsonAsync("/api/generations", new { prompt, steps = 2 }, Ct), HttpStatusCode.BadRequest);
            Assert.Contains("control character", Assert.Single(FieldErrors(problem, "prompt")));
        }
        var negative = await ReadProblemAsync(await api.PostAsJsonAsync("/api/generations", new { prompt = "a red circle", negativePrompt = "blue\u0001", steps = 2 }, Ct), HttpStatusCode.BadRequest);
        Assert.Contains("control character", Assert.Single(FieldErrors(negative, "negativePrompt")));
        await using var hub = await HubTestClient.ConnectAsync(fixture.App, token);
        var hubError = await Assert.ThrowsAsync<HubException>(() => hub.SubmitAsync(new { prompt = "a red\u0000 circle", steps = 2 }));
        Assert.Contains("control character", hubError.Message);

        await using var db = fixture.App.CreateDbContext();
        Assert.False(await db.GenerationJobs.AnyAsync(j => j.OwnerId == userId, Ct));
        // Tabs and line breaks are text, not control characters to refuse.
        var fine = await api.PostAsJsonAsync("/api/generations", new { prompt = "a red circle\n\ton a blue background", steps = 2 }, Ct);
        Assert.Equal(HttpStatusCode.Accepted, fine.StatusCode);
    }

    [Fact]
    public async Task Cancel_OtherUsersOrUnknownJob_Is404ProblemJson_AnonymousIs401()
    {
        var (_, owner) = await fixture.App.RegisterAsync($"owner-{Guid.NewGuid():N}@example.test");
        var (_, other) = await fixture.App.RegisterAsync($"other-{Guid.NewGuid():N}@example.test");
        using var ownerApi = fixture.App.CreateTokenClient(await fixture.App.CreateTokenAsync(owner));
        using var otherApi = fixture.App.CreateTokenClient(await fixture.App.CreateTokenAsync(other));
        var submitted = await ownerApi.PostAsJsonAsync("/api/generations", new { prompt = "a red circle", steps = 100, seed = 1 }, Ct);
        var jobId = (await submitted.Content.ReadFromJsonAsync<JsonElement>(Ct)).GetProperty("id").GetGuid();

        await ReadProblemAsync(await otherApi.DeleteAsync($"/api/generations/{jobId}", Ct), HttpStatusCode.NotFound);
        await ReadProblemAsync(await otherApi.DeleteAsync($"/api/generations/{Guid.NewGuid()}", Ct), HttpStatusCode.NotFound);
        using var anonymous = fixture.App.CreateClient();
        Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.DeleteAsync($"/api/generations/{jobId}", Ct)).StatusCode);

        Assert.Equal(HttpStatusCode.Accepted, (await ownerApi.DeleteAsync($"/api/generations/{jobId}", Ct)).StatusCode);
    }

    [Fact]
    public async Task DailyQuota_Exhausted_Answers429WithRetryAfterAndWhatIsLeft()
    {
        await using var app = new GalleryAppFactory();
        app.Settings["Quotas:ImagesPerDay"] = "3";
        var (_, userId) = await app.RegisterAsync($"quota-{Guid.NewGuid():N}@example.test");
        using var api = app.CreateTokenClient(await app.CreateTokenAsync(userId));

        Assert.Equal(HttpStatusCode.Accepted, (await api.PostAsJsonAsync("/api/generations", new { prompt = "a red circle", steps = 2, batchCount = 2 }, Ct)).StatusCode);
        var refused = await api.PostAsJsonAsync("/api/generations", new { prompt = "a red circle", steps = 2, batchCount = 2 }, Ct);

        var problem = await ReadProblemAsync(refused, HttpStatusCode.TooManyRequests);
        Assert.Equal("imagesPerDay", problem.GetProperty("limit").GetString());
        Assert.Equal(1, problem.GetProperty("remaining").GetInt64());
        Assert.Contains("1 left", problem.GetProperty("detail").GetString());
        var retryAfter = refused.Headers.RetryAfter?.Delta;
        Assert.NotNull(retryAfter);
        var untilMidnightUtc = (DateTime.UtcNow.Date.AddDays(1) - DateTime.UtcNow).TotalHours; // quota days run midnight to midnight UTC
        Assert.InRange(retryAfter.Value.TotalHours, untilMidnightUtc - 0.05, untilMidnightUtc + 0.05);
        Assert.Equal(HttpStatusCode.Accepted, (await api.PostAsJsonAsync("/api/generations", new { prompt = "a red circle", steps = 2, batchCount = 1 }, Ct)).StatusCode);
    }
}
