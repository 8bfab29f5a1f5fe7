using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Nodes;
using DiffusionGallery.Web.Options;
using DiffusionGallery.Web.Tests.Integration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace DiffusionGallery.Web.Tests.ApiDocs;

/// <summary>The shape of /openapi/v1.json, which client generators (e.g. openapi-typescript) consume as is.</summary>
public sealed class OpenApiDocumentTests(GenerationFlowTests.AppFixture fixture) : IClassFixture<GenerationFlowTests.AppFixture>
{
    private async Task<JsonObject> DocumentAsync(GalleryAppFactory app) =>
        (await app.CreateClient().GetFromJsonAsync<JsonObject>("/openapi/v1.json"))!;

    [Fact]
    public async Task Paths_AreTheApiAndImageFilesOnly()
    {
        var paths = (await DocumentAsync(fixture.App))["paths"]!.AsObject().Select(p => p.Key).ToList();

        Assert.All(paths, p => Assert.True(p.StartsWith("/api/", StringComparison.Ordinal) || p.StartsWith("/images/", StringComparison.Ordinal), p));
        Assert.Contains("/api/generations", paths);
        Assert.Contains("/images/{id}", paths);
        Assert.Contains("/images/{id}/thumb", paths);
        Assert.DoesNotContain(paths, p => p.Contains("Account", StringComparison.OrdinalIgnoreCase));
    }

    [Fact]
    public async Task SecuritySchemes_BearerAndCookie_AppliedToTheDocument()
    {
        var document = await DocumentAsync(fixture.App);
        var schemes = document["components"]!["securitySchemes"]!;

        Assert.Equal("http", (string?)schemes["bearer"]!["type"]);
        Assert.Equal("bearer", (string?)schemes["bearer"]!["scheme"]);
        Assert.Equal("apiKey", (string?)schemes["cookie"]!["type"]);
        Assert.Equal("cookie", (string?)schemes["cookie"]!["in"]);
        var required = document["security"]!.AsArray().SelectMany(r => r!.AsObject().Select(p => p.Key)).ToList();
        Assert.Equal(["bearer", "cookie"], required);
    }

    [Fact]
    public async Task NoSchemaAllowsStringsForNumbers()
    {
        var document = await DocumentAsync(fixture.App);
        var offenders = new List<string>();
        Walk(document, "$", offenders);
        Assert.Empty(offenders);

        static void Walk(JsonNode? node, string path, List<string> offenders)
        {
            switch (node)
            {
                case JsonObject obj:
                    if (obj["type"] is JsonArray types)
                    {
                        var names = types.Select(t => (string?)t).ToList();
                        if ((names.Contains("integer") || names.Contains("number")) && names.Contains("string")) offenders.Add(path);
                    }
                    foreach (var (key, value) in obj) Walk(value, $"{path}.{key}", offenders);
                    break;
                case JsonArray array:
                    for (var i = 0; i < array.Count; i++) Walk(array[i], $"{path}[{i}]", offenders);
                    break;
            }
        }
    }

    [Fact]
    public async Task RequestSchema_CarriesTheLimitsFromGenerationOptions()
    {
        var limits = fixture.App.Services.GetRequiredService<IOptions<GenerationOptions>>().Value;
        var request = (await DocumentAsync(fixture.App))["components"]!["schemas"]!["GenerateRequestDto"]!["properties"]!;

        Assert.Equal(limits.MaxSteps, (int)request["steps"]!["maximum"]!);
        Assert.Equal(1, (int)request["steps"]!["minimum"]!);
        Assert.Contains("integer", request["steps"]!["type"]!.AsArray().Select(t => (string?)t));
        Assert.Equal(limits.MaxBatch, (int)request["batchCount"]!["maximum"]!);
        Assert.Equal(limits.MaxPromptLength, (int)request["prompt"]!["maxLength"]!);
        Assert.Equal(limits.MaxPixelsSide, (int)request["width"]!["maximum"]!);
        Assert.NotNull(request["guidanceScale"]!["maximum"]);
        Assert.NotNull(request["temperature"]!["maximum"]);
    }

    [Fact]
    public async Task ChangedLimits_AppearInTheDocument()
    {
        await using var app = new GalleryAppFactory();
        app.Settings["Generation:MaxSteps"] = "77";
        app.Settings["Generation:MaxPromptLength"] = "321";

        var request = (await DocumentAsync(app))["components"]!["schemas"]!["GenerateRequestDto"]!["properties"]!;

        Assert.Equal(77, (int)request["steps"]!["maximum"]!);
        Assert.Equal(321, (int)request["prompt"]!["maxLength"]!);
    }

    [Fact]
    public async Task NumberAsString_IsRefusedLikeTheDocumentSays()
    {
        var (_, userId) = await fixture.App.RegisterAsync($"strict-{Guid.NewGuid():N}@example.test");
        var client = fixture.App.CreateTokenClient(await fixture.App.CreateTokenAsync(userId));

        var response = await client.PostAsync("/api/generations", new StringContent("""{"prompt":"a circle","steps":"5"}""", System.Text.Encoding.UTF8, "application/json"), TestContext.Current.CancellationToken);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Empty(await JobsAsync(userId));
    }

    private async Task<List<Guid>> JobsAsync(string userId)
    {
        await using var db = fixture.App.CreateDbContext();
        return [.. db.GenerationJobs.Where(j => j.OwnerId == userId).Select(j => j.Id)];
    }
}
