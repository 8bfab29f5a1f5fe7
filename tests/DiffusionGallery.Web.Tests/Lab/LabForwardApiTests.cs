using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using DiffusionGallery.Inference.Models;
using DiffusionGallery.Inference.Scheduling;
using DiffusionGallery.Web.Tests.Integration;
using DiffusionGallery.Web.Tests.Support;
using DiffusionGallery.Web.Tests.Uploads;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;

namespace DiffusionGallery.Web.Tests.Lab;

/// <summary>POST /api/lab/forward through the real app and the bundled model on CPU.</summary>
public sealed class LabForwardApiTests(GenerationFlowTests.AppFixture fixture) : IClassFixture<GenerationFlowTests.AppFixture>
{
    private GalleryAppFactory App => fixture.App;

    private async Task<HttpClient> TokenClientAsync(string prefix)
    {
        var (_, userId) = await App.RegisterAsync($"{prefix}-{Guid.NewGuid():N}@example.test");
        return App.CreateTokenClient(await App.CreateTokenAsync(userId));
    }

    [Fact]
    public async Task Forward_OwnUpload_ReturnsOneFramePerTimestep_WithTheSchedulesAlphaBar_NoisierAsTGrows()
    {
        using var client = await TokenClientAsync("lab-fwd");
        var upload = await UploadApiTests.UploadOkAsync(client, UploadCorpus.NoisePng(200, 150, 4));

        var response = await client.PostAsJsonAsync("/api/lab/forward", new { source = new { uploadId = upload.Id }, timesteps = new[] { 0, 250, 999 } });

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        var frames = json.RootElement.GetProperty("frames").EnumerateArray().ToList();
        Assert.Equal(new[] { 0, 250, 999 }, frames.Select(f => f.GetProperty("t").GetInt32()));
        var schedule = new NoiseSchedule(ModelInfo.Read(Path.Combine(RepoPaths.Models, "tiny-shapes")).Scheduler);
        foreach (var frame in frames)
            Assert.Equal(schedule.AlphasCumprod[frame.GetProperty("t").GetInt32()], frame.GetProperty("alphaBar").GetDouble(), 9);

        var images = frames.Select(f => DecodeDataUrl(f.GetProperty("png").GetString()!)).ToList();
        try
        {
            Assert.All(images, i => Assert.Equal((128, 128), (i.Width, i.Height)));
            var nearOriginal = Difference(images[0], images[1]);
            var farFromOriginal = Difference(images[0], images[2]);
            Assert.True(farFromOriginal > nearOriginal, $"t=999 should differ more from t=0 ({farFromOriginal:F1}) than t=250 does ({nearOriginal:F1})");
        }
        finally
        {
            foreach (var image in images) image.Dispose();
        }

        // Same request, same frames: the seed is fixed (0 unless given).
        var again = await client.PostAsJsonAsync("/api/lab/forward", new { source = new { uploadId = upload.Id }, timesteps = new[] { 250 } });
        using var againJson = JsonDocument.Parse(await again.Content.ReadAsStringAsync());
        Assert.Equal(frames[1].GetProperty("png").GetString(), againJson.RootElement.GetProperty("frames")[0].GetProperty("png").GetString());
    }

    [Fact]
    public async Task Forward_AnotherUsersUploadOrImage_Is404_BadInput_Is400_Anonymous_Is401()
    {
        using var owner = await TokenClientAsync("lab-owner");
        using var other = await TokenClientAsync("lab-other");
        var upload = await UploadApiTests.UploadOkAsync(owner, UploadCorpus.NoisePng(64, 64, 8));

        var stolen = await other.PostAsJsonAsync("/api/lab/forward", new { source = new { uploadId = upload.Id }, timesteps = new[] { 10 } });
        await UploadApiTests.AssertProblemAsync(stolen, HttpStatusCode.NotFound, "upload");
        var unknownImage = await other.PostAsJsonAsync("/api/lab/forward", new { source = new { imageId = Guid.NewGuid() }, timesteps = new[] { 10 } });
        await UploadApiTests.AssertProblemAsync(unknownImage, HttpStatusCode.NotFound, "image");

        await UploadApiTests.AssertProblemAsync(await owner.PostAsJsonAsync("/api/lab/forward", new { source = new { uploadId = upload.Id }, timesteps = new[] { 1000 } }),
            HttpStatusCode.BadRequest, "between 0 and 999");
        await UploadApiTests.AssertProblemAsync(await owner.PostAsJsonAsync("/api/lab/forward", new { source = new { uploadId = upload.Id }, timesteps = Array.Empty<int>() }),
            HttpStatusCode.BadRequest, "timesteps");
        await UploadApiTests.AssertProblemAsync(await owner.PostAsJsonAsync("/api/lab/forward", new { source = new { uploadId = upload.Id }, timesteps = Enumerable.Range(0, 17).ToArray() }),
            HttpStatusCode.BadRequest, "between 1 and 16");
        await UploadApiTests.AssertProblemAsync(await owner.PostAsJsonAsync("/api/lab/forward", new { source = new { uploadId = upload.Id, imageId = Guid.NewGuid() }, timesteps = new[] { 1 } }),
            HttpStatusCode.BadRequest, "exactly one");
        await UploadApiTests.AssertProblemAsync(await owner.PostAsJsonAsync("/api/lab/forward", new { timesteps = new[] { 1 } }),
            HttpStatusCode.BadRequest, "source");

        using var anonymous = App.CreateClient(new() { AllowAutoRedirect = false });
        Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.PostAsJsonAsync("/api/lab/forward", new { source = new { uploadId = upload.Id }, timesteps = new[] { 1 } })).StatusCode);
    }

    [Fact]
    public async Task LabPage_Anonymous_IsSentToSignIn_SignedIn_Renders()
    {
        using var anonymous = App.CreateClient(new() { AllowAutoRedirect = false });
        var response = await anonymous.GetAsync("/lab");
        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        Assert.Contains("Account/Login", response.Headers.Location?.OriginalString);

        var (client, _) = await App.RegisterAsync($"lab-page-{Guid.NewGuid():N}@example.test");
        var page = await client.GetStringAsync("/lab");
        Assert.Contains("Diffusion Lab", page);
    }

    private static Image<Rgb24> DecodeDataUrl(string dataUrl)
    {
        const string prefix = "data:image/png;base64,";
        Assert.StartsWith(prefix, dataUrl);
        return Image.Load<Rgb24>(Convert.FromBase64String(dataUrl[prefix.Length..]));
    }

    /// <summary>Mean absolute difference per channel (0–255).</summary>
    private static double Difference(Image<Rgb24> a, Image<Rgb24> b)
    {
        double total = 0;
        for (var y = 0; y < a.Height; y++)
        for (var x = 0; x < a.Width; x++)
        {
            var p = a[x, y];
            var q = b[x, y];
            total += Math.Abs(p.R - q.R) + Math.Abs(p.G - q.G) + Math.Abs(p.B - q.B);
        }
        return total / (3.0 * a.Width * a.Height);
    }
}
