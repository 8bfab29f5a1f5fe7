using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using DiffusionGallery.Web.Tests.Integration;

namespace DiffusionGallery.Web.Tests.Generation;

/// <summary>
/// The honest hints over REST, against the real bundled model: POST /api/generations names the words the model does
/// not know without refusing the job; GET /api/models lists the words each model knows.
/// </summary>
public sealed class VocabularyHintsApiTests(GenerationFlowTests.AppFixture fixture) : IClassFixture<GenerationFlowTests.AppFixture>
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private async Task<HttpClient> ApiClientAsync()
    {
        var (_, userId) = await fixture.App.RegisterAsync($"words-{Guid.NewGuid():N}@example.test");
        return fixture.App.CreateTokenClient(await fixture.App.CreateTokenAsync(userId));
    }

    [Fact]
    public async Task Submit_WithUnknownWords_IsAccepted_AndNamesThem()
    {
        using var api = await ApiClientAsync();

        var submit = await api.PostAsJsonAsync("/api/generations",
            new { prompt = "a (teal:1.2) circle on a sunset gradient", negativePrompt = "blurry", steps = 2, seed = 5 }, Ct);

        Assert.Equal(HttpStatusCode.Accepted, submit.StatusCode);
        var job = await submit.Content.ReadFromJsonAsync<JsonElement>(Ct);
        Assert.Equal(["teal", "blurry"], job.GetProperty("unknownWords").EnumerateArray().Select(w => w.GetString()));
        var hint = job.GetProperty("hint").GetString();
        Assert.StartsWith("'teal' is not known to this model; it knows these colours: red, orange, yellow,", hint);
        Assert.EndsWith("In the negative prompt, 'blurry' is not known to this model.", hint);
        Assert.NotEqual(Guid.Empty, job.GetProperty("id").GetGuid());
    }

    [Fact]
    public async Task Submit_WithKnownWords_HasAnEmptyListAndNoHint_AndTheJobResourceHasNeither()
    {
        using var api = await ApiClientAsync();

        var submit = await api.PostAsJsonAsync("/api/generations", new { prompt = "A large RED circle in the top-left, on a blue background.", steps = 2 }, Ct);

        Assert.Equal(HttpStatusCode.Accepted, submit.StatusCode);
        var job = await submit.Content.ReadFromJsonAsync<JsonElement>(Ct);
        Assert.Equal(0, job.GetProperty("unknownWords").GetArrayLength());
        Assert.False(job.TryGetProperty("hint", out _));
        var status = await api.GetFromJsonAsync<JsonElement>($"/api/generations/{job.GetProperty("id").GetGuid()}", Ct);
        Assert.False(status.TryGetProperty("unknownWords", out _));
    }

    [Fact]
    public async Task Submit_InvalidSettings_StillAnswersProblemJson_NotAHint()
    {
        using var api = await ApiClientAsync();

        var refused = await api.PostAsJsonAsync("/api/generations", new { prompt = "a teal hexagon", steps = 100_000 }, Ct);

        Assert.Equal(HttpStatusCode.BadRequest, refused.StatusCode);
        Assert.Equal("application/problem+json", refused.Content.Headers.ContentType?.MediaType);
        var problem = await refused.Content.ReadFromJsonAsync<JsonElement>(Ct);
        Assert.True(problem.GetProperty("errors").TryGetProperty("steps", out _));
        Assert.False(problem.TryGetProperty("unknownWords", out _));
    }

    [Fact]
    public async Task Models_ListTheBundledModelsVocabulary()
    {
        using var api = await ApiClientAsync();

        var models = await api.GetFromJsonAsync<JsonElement>("/api/models", Ct);

        var tiny = models.EnumerateArray().Single(m => m.GetProperty("name").GetString() == "tiny-shapes");
        var vocabulary = tiny.GetProperty("vocabulary");
        var words = vocabulary.GetProperty("words").EnumerateArray().Select(w => w.GetString()).ToList();
        Assert.Contains("circle", words);
        Assert.Contains("sunset", words);
        Assert.DoesNotContain("teal", words);
        Assert.Contains("red", vocabulary.GetProperty("colours").EnumerateArray().Select(w => w.GetString()));
        Assert.Contains("two", vocabulary.GetProperty("counts").EnumerateArray().Select(w => w.GetString()));
        Assert.Contains("above", vocabulary.GetProperty("relations").EnumerateArray().Select(w => w.GetString()));
        Assert.Equal("DpmPlusPlus2M", tiny.GetProperty("recommended").GetProperty("sampler").GetString());
        var one = await api.GetFromJsonAsync<JsonElement>("/api/models/tiny-shapes", Ct);
        Assert.Equal(words.Count, one.GetProperty("vocabulary").GetProperty("words").GetArrayLength());
    }

    [Fact]
    public async Task Models_UnknownName_Is404ProblemJson()
    {
        using var api = await ApiClientAsync();

        var missing = await api.GetAsync("/api/models/no-such-model", Ct);

        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
        Assert.Equal("application/problem+json", missing.Content.Headers.ContentType?.MediaType);
        Assert.Contains("'no-such-model'", (await missing.Content.ReadFromJsonAsync<JsonElement>(Ct)).GetProperty("detail").GetString());
    }

    [Fact]
    public async Task Models_Anonymous_IsUnauthorized()
    {
        using var anonymous = fixture.App.CreateClient(new Microsoft.AspNetCore.Mvc.Testing.WebApplicationFactoryClientOptions { AllowAutoRedirect = false });

        Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.GetAsync("/api/models", Ct)).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.GetAsync("/api/models/tiny-shapes", Ct)).StatusCode);
    }
}
