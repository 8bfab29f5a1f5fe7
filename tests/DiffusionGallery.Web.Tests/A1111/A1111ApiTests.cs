// Whole HTTP round trips bounded by their own timeouts, as the Integration folder's tests (see .editorconfig).
#pragma warning disable xUnit1051
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using DiffusionGallery.Web.Data.Entities;
using DiffusionGallery.Web.Tests.Integration;
using DiffusionGallery.Web.Tests.Support;
using DiffusionGallery.Web.Uploads;
using Microsoft.EntityFrameworkCore;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;

namespace DiffusionGallery.Web.Tests.A1111;

/// <summary>The /sdapi/v1 API spoken as A1111 clients speak it, against the real app (SQLite file, bundled model on CPU).</summary>
public sealed class A1111ApiTests(GenerationFlowTests.AppFixture fixture) : IClassFixture<GenerationFlowTests.AppFixture>
{
    private GalleryAppFactory App => fixture.App;

    [Fact]
    public async Task Txt2Img_ReturnsPngsWhoseParametersAndInfoAgreeWithTheRequest_UnknownFieldsIgnoredWithWarnings()
    {
        var user = await A1111User.CreateAsync(App);
        var (response, body) = await user.PostAsync("/sdapi/v1/txt2img", new Dictionary<string, object?>
        {
            ["prompt"] = "a red circle on a blue background",
            ["negative_prompt"] = "green",
            ["seed"] = 1234,
            ["steps"] = 5,
            ["cfg_scale"] = 6.5,
            ["width"] = 128,
            ["height"] = 128,
            ["sampler_name"] = "DPM++ 2M",
            ["scheduler"] = "Karras",
            ["batch_size"] = 2,
            ["n_iter"] = 2,
            ["send_images"] = true,
            ["save_images"] = false,
            // Unsupported: accepted and ignored, with a warning for those that ask for something.
            ["enable_hr"] = true,
            ["hr_scale"] = 2,
            ["restore_faces"] = true,
            ["alwayson_scripts"] = new { controlnet = new { args = new[] { new { enabled = true } } } },
            ["styles"] = Array.Empty<string>(),
            ["subseed"] = -1,
            ["override_settings"] = new Dictionary<string, object> { ["sd_model_checkpoint"] = "tiny-shapes", ["CLIP_stop_at_last_layers"] = 2 },
        });

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var images = body.GetProperty("images").EnumerateArray().Select(i => Convert.FromBase64String(i.GetString()!)).ToList();
        Assert.Equal(4, images.Count);
        var info = JsonDocument.Parse(body.GetProperty("info").GetString()!).RootElement;
        Assert.Equal([1234L, 1235, 1236, 1237], info.GetProperty("all_seeds").EnumerateArray().Select(s => s.GetInt64()));
        Assert.Equal(1234, info.GetProperty("seed").GetInt64());
        Assert.Equal("DPM++ 2M", info.GetProperty("sampler_name").GetString());
        Assert.Equal(6.5, info.GetProperty("cfg_scale").GetDouble());
        Assert.Equal((128, 128), (info.GetProperty("width").GetInt32(), info.GetProperty("height").GetInt32()));
        Assert.Equal("tiny-shapes", info.GetProperty("sd_model_name").GetString());
        Assert.All(info.GetProperty("all_prompts").EnumerateArray(), p => Assert.Equal("a red circle on a blue background", p.GetString()));
        var infotexts = info.GetProperty("infotexts").EnumerateArray().Select(t => t.GetString()!).ToList();
        for (var i = 0; i < 4; i++)
        {
            using var decoded = Image.Load<Rgb24>(images[i]);
            Assert.Equal((128, 128), (decoded.Width, decoded.Height));
            var parameters = PngChunks.ReadText(images[i])["parameters"];
            Assert.Equal(infotexts[i], parameters);
            Assert.StartsWith("a red circle on a blue background\nNegative prompt: green\n", parameters);
            Assert.Contains($"Seed: {1234 + i},", parameters);
            Assert.Contains("Steps: 5, Sampler: DPM++ 2M, CFG scale: 6.5", parameters);
            Assert.Contains("Size: 128x128", parameters);
            Assert.Contains("Schedule type: Karras", parameters);
            Assert.Contains($"Model hash: {info.GetProperty("sd_model_hash").GetString()}", parameters);
        }
        var warnings = info.GetProperty("warnings").EnumerateArray().Select(w => w.GetString()!).ToList();
        Assert.Contains(warnings, w => w.Contains("'enable_hr'"));
        Assert.Contains(warnings, w => w.Contains("'restore_faces'"));
        Assert.Contains(warnings, w => w.Contains("'alwayson_scripts'"));
        Assert.Contains(warnings, w => w.Contains("override_settings.CLIP_stop_at_last_layers"));
        Assert.DoesNotContain(warnings, w => w.Contains("'styles'") || w.Contains("'subseed'") || w.Contains("save_images"));

        var echoed = body.GetProperty("parameters");
        Assert.Equal("a red circle on a blue background", echoed.GetProperty("prompt").GetString());
        Assert.Equal(2, echoed.GetProperty("n_iter").GetInt32());
        Assert.True(echoed.GetProperty("enable_hr").GetBoolean());

        // The same PNGs are in the caller's gallery, byte for byte.
        await using var db = App.CreateDbContext();
        var stored = await db.GeneratedImages.Where(i => i.OwnerId == user.UserId).OrderBy(i => i.Seed).ToListAsync();
        Assert.Equal([1234L, 1235, 1236, 1237], stored.Select(i => i.Seed));
        var store = App.Services.GetService(typeof(DiffusionGallery.Web.Gallery.ImageStore)) as DiffusionGallery.Web.Gallery.ImageStore;
        Assert.Equal(images[2], await File.ReadAllBytesAsync(store!.GetImagePath(stored[2].Id)));
        var jobs = await db.GenerationJobs.Where(j => j.OwnerId == user.UserId).ToListAsync();
        Assert.Equal(2, jobs.Count(j => j.State == JobState.Succeeded));
        Assert.All(jobs, j => Assert.Equal(("a1111", A1111User.UserAgent), (j.Origin, j.Client)));
    }

    [Fact]
    public async Task OldKarrasSamplerName_AndOmittedFields_TakeA1111MeaningAndModelRecommendations_SendImagesFalseSendsNone()
    {
        var user = await A1111User.CreateAsync(App);
        var (response, body) = await user.PostAsync("/sdapi/v1/txt2img", new { prompt = "a white heart", sampler_name = "DPM++ 2M Karras", steps = 3, seed = 9, send_images = false });
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Empty(body.GetProperty("images").EnumerateArray());
        var info = JsonDocument.Parse(body.GetProperty("info").GetString()!).RootElement;
        var text = info.GetProperty("infotexts")[0].GetString()!;
        Assert.Contains("Sampler: DPM++ 2M,", text);
        Assert.Contains("Schedule type: Karras", text);
        Assert.Contains("Size: 128x128", text); // the bundled model's native size, not A1111's 512
        Assert.Equal("Karras", body.GetProperty("parameters").GetProperty("scheduler").GetString());

        var (_, euler) = await user.PostAsync("/sdapi/v1/txt2img", new { prompt = "a white heart", sampler_name = "k_euler_a", steps = 2, seed = -1 });
        var eulerInfo = JsonDocument.Parse(euler.GetProperty("info").GetString()!).RootElement;
        Assert.Equal("Euler a", eulerInfo.GetProperty("sampler_name").GetString());
        Assert.InRange(eulerInfo.GetProperty("seed").GetInt64(), 0, uint.MaxValue);
        Assert.DoesNotContain("Karras", eulerInfo.GetProperty("infotexts")[0].GetString()!);
    }

    [Fact]
    public async Task Lists_SamplersSchedulersModels_InA1111Shapes()
    {
        var user = await A1111User.CreateAsync(App);
        var samplers = await user.GetAsync("/sdapi/v1/samplers");
        var dpm = samplers.EnumerateArray().Single(s => s.GetProperty("name").GetString() == "DPM++ 2M");
        Assert.Contains("k_dpmpp_2m", dpm.GetProperty("aliases").EnumerateArray().Select(a => a.GetString()));
        Assert.Equal("karras", dpm.GetProperty("options").GetProperty("scheduler").GetString());
        Assert.Contains(samplers.EnumerateArray(), s => s.GetProperty("name").GetString() == "Euler a");

        var schedulers = await user.GetAsync("/sdapi/v1/schedulers");
        Assert.Equal(["automatic", "uniform", "karras"], schedulers.EnumerateArray().Select(s => s.GetProperty("name").GetString()));
        Assert.Equal("Karras", schedulers[2].GetProperty("label").GetString());

        var models = await user.GetAsync("/sdapi/v1/sd-models");
        var model = models.EnumerateArray().Single(m => m.GetProperty("model_name").GetString() == "tiny-shapes");
        var sha = model.GetProperty("sha256").GetString()!;
        Assert.Matches("^[0-9a-f]{64}$", sha);
        Assert.Equal(sha[..10], model.GetProperty("hash").GetString());
        Assert.Equal($"tiny-shapes [{sha[..10]}]", model.GetProperty("title").GetString());
        Assert.Equal("tiny-shapes", model.GetProperty("filename").GetString()); // no server path
    }

    [Fact]
    public async Task Options_CheckpointIsPerUser_UnknownModelIs422()
    {
        var user = await A1111User.CreateAsync(App);
        var other = await A1111User.CreateAsync(App);
        var title = (await user.GetAsync("/sdapi/v1/sd-models"))[0].GetProperty("title").GetString();
        Assert.Equal(title, (await user.GetAsync("/sdapi/v1/options")).GetProperty("sd_model_checkpoint").GetString());

        var (bad, badBody) = await user.PostAsync("/sdapi/v1/options", new { sd_model_checkpoint = "sdxl_base.safetensors [31e35c80fc]" });
        Assert.Equal(HttpStatusCode.UnprocessableEntity, bad.StatusCode);
        Assert.Equal(["body", "sd_model_checkpoint"], badBody.GetProperty("detail")[0].GetProperty("loc").EnumerateArray().Select(l => l.GetString()));
        Assert.Contains(title!, badBody.GetProperty("detail")[0].GetProperty("msg").GetString());

        var (ok, okBody) = await user.PostAsync("/sdapi/v1/options", new { sd_model_checkpoint = "tiny-shapes.safetensors", sd_vae = "None" });
        Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
        Assert.Equal(JsonValueKind.Null, okBody.ValueKind);
        await using var db = App.CreateDbContext();
        var rows = await db.Set<DiffusionGallery.Web.A1111.A1111UserOptions>().Where(o => o.UserId == user.UserId || o.UserId == other.UserId).ToListAsync();
        Assert.Equal(user.UserId, Assert.Single(rows).UserId);
        Assert.Equal("tiny-shapes", rows[0].SdModelCheckpoint);
        Assert.Equal(title, (await user.GetAsync("/sdapi/v1/options")).GetProperty("sd_model_checkpoint").GetString());
    }

    [Fact]
    public async Task PngInfo_OnOurOwnPng_ReturnsInfotextItemsAndParsedParameters()
    {
        var user = await A1111User.CreateAsync(App);
        var (_, body) = await user.PostAsync("/sdapi/v1/txt2img", new { prompt = "a small yellow star, top left", steps = 2, seed = 4242, width = 64, height = 96 });
        var base64 = body.GetProperty("images")[0].GetString()!;
        var parametersText = PngChunks.ReadText(Convert.FromBase64String(base64))["parameters"];

        foreach (var image in new[] { base64, "data:image/png;base64," + base64 })
        {
            var (response, info) = await user.PostAsync("/sdapi/v1/png-info", new { image });
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Equal(parametersText, info.GetProperty("info").GetString());
            Assert.True(info.GetProperty("items").TryGetProperty("diffusion_gallery", out _));
            var parsed = info.GetProperty("parameters");
            Assert.Equal("a small yellow star, top left", parsed.GetProperty("Prompt").GetString());
            Assert.Equal("4242", parsed.GetProperty("Seed").GetString());
            Assert.Equal(("64", "96"), (parsed.GetProperty("Size-1").GetString(), parsed.GetProperty("Size-2").GetString()));
        }

        var (garbage, error) = await user.PostAsync("/sdapi/v1/png-info", new { image = Convert.ToBase64String("not an image at all"u8.ToArray()) });
        Assert.Equal(HttpStatusCode.UnprocessableEntity, garbage.StatusCode);
        Assert.Equal(["body", "image"], error.GetProperty("detail")[0].GetProperty("loc").EnumerateArray().Select(l => l.GetString()));
        var (url, _) = await user.PostAsync("/sdapi/v1/png-info", new { image = "http://169.254.169.254/latest/meta-data" });
        Assert.Equal(HttpStatusCode.UnprocessableEntity, url.StatusCode);
    }

    [Fact]
    public async Task InvalidInput_Answers422InFastApisShape_AndQueuesNothing()
    {
        var user = await A1111User.CreateAsync(App);
        async Task<JsonElement> Expect422(object body)
        {
            var (response, json) = await user.PostAsync("/sdapi/v1/txt2img", body);
            Assert.Equal(HttpStatusCode.UnprocessableEntity, response.StatusCode);
            return json.GetProperty("detail");
        }

        var typeError = await Expect422(new { prompt = "x", steps = "many", cfg_scale = "high" });
        Assert.Equal(2, typeError.GetArrayLength());
        Assert.Equal(["body", "steps"], typeError[0].GetProperty("loc").EnumerateArray().Select(l => l.GetString()));
        Assert.Equal("value is not a valid integer", typeError[0].GetProperty("msg").GetString());
        Assert.Equal("type_error.integer", typeError[0].GetProperty("type").GetString());
        Assert.Equal("type_error.float", typeError[1].GetProperty("type").GetString());

        var range = await Expect422(new { prompt = "x", steps = 100000, width = 100 });
        Assert.Equal("value_error.number.not_le", range[0].GetProperty("type").GetString());
        Assert.Contains("less than or equal to", range[0].GetProperty("msg").GetString());
        Assert.Equal(["body", "width"], range[1].GetProperty("loc").EnumerateArray().Select(l => l.GetString()));

        // Within the server's limits but beyond the model's own (the bundled model stops at 256): the shared
        // validation's field error, located at A1111's field name.
        var model = await Expect422(new { prompt = "x", steps = 2, width = 1024, height = 128 });
        Assert.Equal(["body", "width"], model[0].GetProperty("loc").EnumerateArray().Select(l => l.GetString()));
        Assert.Contains("256", model[0].GetProperty("msg").GetString());

        var sampler = await Expect422(new { prompt = "x", sampler_name = "UniPC" });
        Assert.Contains("DPM++ 2M", sampler[0].GetProperty("msg").GetString());

        var empty = await Expect422(new { prompt = " ", steps = 2 });
        Assert.Equal(["body", "prompt"], empty[0].GetProperty("loc").EnumerateArray().Select(l => l.GetString()));
        Assert.Equal("The prompt is empty.", empty[0].GetProperty("msg").GetString());

        var malformed = await user.Client.PostAsync("/sdapi/v1/txt2img", new StringContent("{\"prompt\": ", System.Text.Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.UnprocessableEntity, malformed.StatusCode);
        var malformedBody = JsonDocument.Parse(await malformed.Content.ReadAsStringAsync()).RootElement;
        Assert.Equal("value_error.jsondecode", malformedBody.GetProperty("detail")[0].GetProperty("type").GetString());
        Assert.Equal("body", malformedBody.GetProperty("detail")[0].GetProperty("loc")[0].GetString());

        var notObject = await user.Client.PostAsJsonAsync("/sdapi/v1/txt2img", new[] { 1, 2 });
        Assert.Equal(HttpStatusCode.UnprocessableEntity, notObject.StatusCode);

        await using var db = App.CreateDbContext();
        Assert.Equal(0, await db.GenerationJobs.CountAsync(j => j.OwnerId == user.UserId));
    }

    [Fact]
    public async Task Seed_MinusOneIsRandom_OtherNegativesAndSeedsOverTheLimitAre422NamingTheRange()
    {
        var user = await A1111User.CreateAsync(App);
        foreach (var (seed, type, limit) in new[] { (-5L, "value_error.number.not_ge", -1L), (-2L, "value_error.number.not_ge", -1L),
                     (DiffusionGallery.Web.Generation.Seeds.Max + 1, "value_error.number.not_le", DiffusionGallery.Web.Generation.Seeds.Max) })
        {
            var (response, body) = await user.PostAsync("/sdapi/v1/txt2img", new { prompt = "a red circle", steps = 2, seed });
            Assert.Equal(HttpStatusCode.UnprocessableEntity, response.StatusCode);
            var error = Assert.Single(body.GetProperty("detail").EnumerateArray());
            Assert.Equal(["body", "seed"], error.GetProperty("loc").EnumerateArray().Select(l => l.GetString()));
            Assert.Equal($"ensure this value is -1 (random) or from 0 to {DiffusionGallery.Web.Generation.Seeds.Max}", error.GetProperty("msg").GetString());
            Assert.Equal(type, error.GetProperty("type").GetString());
            Assert.Equal(limit, error.GetProperty("ctx").GetProperty("limit_value").GetInt64());
        }
        // The images of one call have seed + k: the last one must fit too, so no job of the call is refused halfway.
        var (tooLate, lateBody) = await user.PostAsync("/sdapi/v1/txt2img", new { prompt = "a red circle", steps = 2, n_iter = 2, seed = DiffusionGallery.Web.Generation.Seeds.Max });
        Assert.Equal(HttpStatusCode.UnprocessableEntity, tooLate.StatusCode);
        Assert.EndsWith($"from 0 to {DiffusionGallery.Web.Generation.Seeds.Max - 1}", lateBody.GetProperty("detail")[0].GetProperty("msg").GetString());
        await using (var db = App.CreateDbContext())
            Assert.Equal(0, await db.GenerationJobs.CountAsync(j => j.OwnerId == user.UserId));

        var (random, randomBody) = await user.PostAsync("/sdapi/v1/txt2img", new { prompt = "a red circle", steps = 2, seed = -1, send_images = false });
        Assert.Equal(HttpStatusCode.OK, random.StatusCode);
        Assert.InRange(JsonDocument.Parse(randomBody.GetProperty("info").GetString()!).RootElement.GetProperty("seed").GetInt64(), 0, uint.MaxValue);
        var (largest, _) = await user.PostAsync("/sdapi/v1/txt2img", new { prompt = "a red circle", steps = 2, seed = DiffusionGallery.Web.Generation.Seeds.Max, send_images = false });
        Assert.Equal(HttpStatusCode.OK, largest.StatusCode);
    }

    [Fact]
    public async Task Auth_BasicWithHandleOrEmailAndToken_Bearer_NeverTheAccountPassword_NoAnonymousNoCookie()
    {
        var user = await A1111User.CreateAsync(App);
        var other = await A1111User.CreateAsync(App);

        var anonymous = await App.CreateClient().GetAsync("/sdapi/v1/samplers");
        Assert.Equal(HttpStatusCode.Unauthorized, anonymous.StatusCode);
        Assert.StartsWith("Basic", anonymous.Headers.WwwAuthenticate.ToString());
        Assert.Equal("Not authenticated", JsonDocument.Parse(await anonymous.Content.ReadAsStringAsync()).RootElement.GetProperty("detail").GetString());

        Assert.Equal(HttpStatusCode.OK, (await user.Client.GetAsync("/sdapi/v1/samplers")).StatusCode);
        using (var upper = A1111User.BasicClient(App, user.Email.ToUpperInvariant(), user.Token))
            Assert.Equal(HttpStatusCode.OK, (await upper.GetAsync("/sdapi/v1/sd-models")).StatusCode);
        // The user name people know is their handle (Identity's UserName is the e-mail): it works, with or without "@".
        string handle, otherHandle;
        await using (var db = App.CreateDbContext())
        {
            handle = (await db.Users.SingleAsync(u => u.Id == user.UserId)).Handle!;
            otherHandle = (await db.Users.SingleAsync(u => u.Id == other.UserId)).Handle!;
        }
        foreach (var name in new[] { handle, "@" + handle, handle.ToUpperInvariant() })
        {
            using var byHandle = A1111User.BasicClient(App, name, user.Token);
            Assert.Equal(HttpStatusCode.OK, (await byHandle.GetAsync("/sdapi/v1/sd-models")).StatusCode);
        }
        using (var othersHandle = A1111User.BasicClient(App, otherHandle, user.Token))
            Assert.Equal(HttpStatusCode.Unauthorized, (await othersHandle.GetAsync("/sdapi/v1/samplers")).StatusCode);
        using (var password = A1111User.BasicClient(App, user.Email, GalleryAppFactory.Password))
            Assert.Equal(HttpStatusCode.Unauthorized, (await password.GetAsync("/sdapi/v1/samplers")).StatusCode);
        using (var wrongName = A1111User.BasicClient(App, other.Email, user.Token))
            Assert.Equal(HttpStatusCode.Unauthorized, (await wrongName.GetAsync("/sdapi/v1/samplers")).StatusCode);
        using (var bearer = App.CreateTokenClient(user.Token))
            Assert.Equal(HttpStatusCode.OK, (await bearer.GetAsync("/sdapi/v1/schedulers")).StatusCode);
        // The browser cookie does not open this API (a page on another site cannot drive it with a visitor's session).
        Assert.Equal(HttpStatusCode.Unauthorized, (await user.Cookie.GetAsync("/sdapi/v1/samplers")).StatusCode);
        var post = await user.Cookie.PostAsJsonAsync("/sdapi/v1/txt2img", new { prompt = "x", steps = 1 });
        Assert.Equal(HttpStatusCode.Unauthorized, post.StatusCode);
    }

    [Fact]
    public async Task QuotaRefusal_Is429WithAMessageNamingTheLimitAndWhenItResets()
    {
        var user = await A1111User.CreateAsync(App);
        await using (var db = App.CreateDbContext())
        {
            db.QuotaPolicies.Add(new QuotaPolicy { UserId = user.UserId, ImagesPerDay = 2 });
            await db.SaveChangesAsync();
        }
        var (first, _) = await user.PostAsync("/sdapi/v1/txt2img", new { prompt = "a red circle", steps = 2, batch_size = 2 });
        Assert.Equal(HttpStatusCode.OK, first.StatusCode);

        var (response, body) = await user.PostAsync("/sdapi/v1/txt2img", new { prompt = "a red circle", steps = 2 });
        Assert.Equal((HttpStatusCode)429, response.StatusCode);
        var retryAfter = int.Parse(response.Headers.GetValues("Retry-After").Single());
        // Quota days run from midnight UTC: Retry-After is the time until the next one.
        var untilMidnight = (new DateTimeOffset(DateTime.UtcNow.Date.AddDays(1), TimeSpan.Zero) - DateTimeOffset.UtcNow).TotalSeconds;
        Assert.InRange(retryAfter, untilMidnight - 120, untilMidnight + 120);
        var detail = body.GetProperty("detail").GetString()!;
        Assert.Contains("images per day: 0 left of 2", detail);
        Assert.Matches(@"resets at \d{2}:\d{2} UTC", detail);
        Assert.Equal("imagesPerDay", body.GetProperty("limit").GetString());
        Assert.Equal(0, body.GetProperty("remaining").GetInt64());
        Assert.Equal(new DateTimeOffset(DateTime.UtcNow.Date.AddDays(1), TimeSpan.Zero), body.GetProperty("resets_at").GetDateTimeOffset());
        await using var check = App.CreateDbContext();
        Assert.Equal(1, await check.GenerationJobs.CountAsync(j => j.OwnerId == user.UserId));
    }

    [Fact]
    public async Task Progress_ShowsTheCallersRunningJobWithPreview_OtherUserSeesNothingAndCannotInterrupt_OwnerInterrupts()
    {
        var owner = await A1111User.CreateAsync(App, "owner");
        var other = await A1111User.CreateAsync(App, "other");
        var call = owner.PostAsync("/sdapi/v1/txt2img", new { prompt = "a blue square", steps = 80, width = 256, height = 256, batch_size = 2, n_iter = 3, seed = 5 });

        JsonElement progress = default;
        var deadline = DateTime.UtcNow.AddMinutes(2);
        while (DateTime.UtcNow < deadline)
        {
            progress = await owner.GetAsync("/sdapi/v1/progress");
            if (progress.GetProperty("state").GetProperty("sampling_step").GetInt32() >= 2 && progress.GetProperty("current_image").ValueKind == JsonValueKind.String) break;
            Assert.False(call.IsCompleted, "the call finished before progress was seen");
            await Task.Delay(50);
        }
        var state = progress.GetProperty("state");
        Assert.Equal(3, state.GetProperty("job_count").GetInt32());
        Assert.Equal(0, state.GetProperty("job_no").GetInt32());
        Assert.Equal(80, state.GetProperty("sampling_steps").GetInt32());
        Assert.InRange(progress.GetProperty("progress").GetDouble(), 0.01, 0.5);
        using (var preview = Image.Load<Rgb24>(Convert.FromBase64String(progress.GetProperty("current_image").GetString()!)))
            Assert.True(preview.Width > 0);

        // Another user: sees no job, and their interrupt and skip do not touch the owner's.
        var foreign = await other.GetAsync("/sdapi/v1/progress");
        Assert.Equal(0, foreign.GetProperty("state").GetProperty("job_count").GetInt32());
        Assert.Equal(JsonValueKind.Null, foreign.GetProperty("current_image").ValueKind);
        Assert.Equal(0, foreign.GetProperty("progress").GetDouble());
        Assert.Equal(HttpStatusCode.OK, (await other.PostAsync("/sdapi/v1/interrupt", new { })).Response.StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await other.PostAsync("/sdapi/v1/skip", new { })).Response.StatusCode);
        var before = state.GetProperty("sampling_step").GetInt32();
        JsonElement later;
        do
        {
            await Task.Delay(100);
            later = await owner.GetAsync("/sdapi/v1/progress");
        }
        while (later.GetProperty("state").GetProperty("sampling_step").GetInt32() <= before && later.GetProperty("state").GetProperty("job_no").GetInt32() == 0 && DateTime.UtcNow < deadline);
        Assert.False(later.GetProperty("state").GetProperty("interrupted").GetBoolean());
        await using (var db = App.CreateDbContext())
            Assert.Equal(0, await db.GenerationJobs.CountAsync(j => j.OwnerId == owner.UserId && j.State == JobState.Cancelled));

        var (interrupt, interruptBody) = await owner.PostAsync("/sdapi/v1/interrupt", new { });
        Assert.Equal(HttpStatusCode.OK, interrupt.StatusCode);
        Assert.Equal(JsonValueKind.Object, interruptBody.ValueKind);
        var (response, body) = await call;
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var info = JsonDocument.Parse(body.GetProperty("info").GetString()!).RootElement;
        Assert.Contains(info.GetProperty("warnings").EnumerateArray(), w => w.GetString()!.StartsWith("Interrupted"));
        Assert.True(body.GetProperty("images").GetArrayLength() < 6);
        await using (var db = App.CreateDbContext())
        {
            var jobs = await db.GenerationJobs.Where(j => j.OwnerId == owner.UserId).ToListAsync();
            Assert.Contains(jobs, j => j.State == JobState.Cancelled);
            Assert.True(jobs.Count < 3, "no further job was submitted after the interrupt");
        }
        Assert.Equal(0, (await owner.GetAsync("/sdapi/v1/progress")).GetProperty("state").GetProperty("job_count").GetInt32());
    }

    [Fact]
    public async Task Progress_AlsoFollowsTheCallersJobFromTheApp_AndInterruptCancelsIt()
    {
        var user = await A1111User.CreateAsync(App, "restjob");
        using var rest = App.CreateTokenClient(user.Token);
        var submit = await rest.PostAsJsonAsync("/api/generations", new { prompt = "a pink star", steps = 80, width = 256, height = 256, batchCount = 2, seed = 8 });
        Assert.Equal(HttpStatusCode.Accepted, submit.StatusCode);
        var jobId = JsonDocument.Parse(await submit.Content.ReadAsStringAsync()).RootElement.GetProperty("id").GetGuid();

        JsonElement progress = default;
        var deadline = DateTime.UtcNow.AddMinutes(2);
        while (DateTime.UtcNow < deadline)
        {
            progress = await user.GetAsync("/sdapi/v1/progress");
            if (progress.GetProperty("state").GetProperty("sampling_step").GetInt32() > 0) break;
            await Task.Delay(50);
        }
        Assert.Equal(1, progress.GetProperty("state").GetProperty("job_count").GetInt32());
        Assert.Equal(80, progress.GetProperty("state").GetProperty("sampling_steps").GetInt32());
        Assert.Contains(jobId.ToString(), progress.GetProperty("state").GetProperty("job").GetString());

        Assert.Equal(HttpStatusCode.OK, (await user.PostAsync("/sdapi/v1/interrupt", new { })).Response.StatusCode);
        JobState state;
        do
        {
            await Task.Delay(100);
            await using var db = App.CreateDbContext();
            state = (await db.GenerationJobs.SingleAsync(j => j.Id == jobId)).State;
        }
        while (state is JobState.Running or JobState.Queued && DateTime.UtcNow < deadline);
        Assert.Equal(JobState.Cancelled, state);
    }

    private static string SolidPng(int width, int height, Rgb24 colour)
    {
        using var image = new Image<Rgb24>(width, height, colour);
        using var stream = new MemoryStream();
        image.SaveAsPng(stream);
        return Convert.ToBase64String(stream.ToArray());
    }

    [Fact]
    public async Task Img2Img_ReturnsPngsWithDenoisingStrength_InfoAgrees_JobsLandInTheGalleryWithTheUploadAsReference()
    {
        var user = await A1111User.CreateAsync(App);
        var png = SolidPng(128, 128, new Rgb24(220, 20, 20));

        // Plain base64 (resize_mode 1: crop) and a data: URL (resize_mode 2: pad), as clients send either.
        var calls = new[] { (Init: png, ResizeMode: 1, Seed: 77L, Fit: ReferenceImageFit.Crop), (Init: "data:image/png;base64," + png, ResizeMode: 2, Seed: 78L, Fit: ReferenceImageFit.Pad) };
        var uploadIds = new List<Guid>();
        foreach (var call in calls)
        {
            var (response, body) = await user.PostAsync("/sdapi/v1/img2img", new
            {
                prompt = "a red square",
                init_images = new[] { call.Init },
                denoising_strength = 0.5,
                resize_mode = call.ResizeMode,
                steps = 4,
                seed = call.Seed,
                width = 128,
                height = 128,
                sampler_name = "Euler a",
            });
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            var image = Convert.FromBase64String(Assert.Single(body.GetProperty("images").EnumerateArray()).GetString()!);
            using (var decoded = Image.Load<Rgb24>(image))
                Assert.Equal((128, 128), (decoded.Width, decoded.Height));
            var parameters = PngChunks.ReadText(image)["parameters"];
            Assert.StartsWith("a red square\n", parameters);
            Assert.Contains("Denoising strength: 0.5", parameters);
            Assert.Contains($"Seed: {call.Seed},", parameters);
            Assert.Contains("Sampler: Euler a,", parameters);

            var info = JsonDocument.Parse(body.GetProperty("info").GetString()!).RootElement;
            Assert.Equal(0.5, info.GetProperty("denoising_strength").GetDouble());
            Assert.Equal(call.Seed, info.GetProperty("seed").GetInt64());
            Assert.Equal(parameters, Assert.Single(info.GetProperty("infotexts").EnumerateArray()).GetString());
            Assert.Empty(info.GetProperty("warnings").EnumerateArray());
            var echoed = body.GetProperty("parameters");
            Assert.Equal(0.5, echoed.GetProperty("denoising_strength").GetDouble());
            Assert.Equal(call.ResizeMode, echoed.GetProperty("resize_mode").GetInt32());
            Assert.Equal(JsonValueKind.Null, echoed.GetProperty("init_images").ValueKind);

            // The init image became the caller's upload, used as the job's reference; the PNG is in their gallery.
            await using var db = App.CreateDbContext();
            var job = await db.GenerationJobs.SingleAsync(j => j.OwnerId == user.UserId && j.Settings.Seed == call.Seed);
            Assert.Equal((JobState.Succeeded, "a1111", A1111User.UserAgent), (job.State, job.Origin, job.Client));
            Assert.Equal((0.5f, call.Fit), (job.Settings.Strength, job.Settings.Fit));
            var uploadId = Assert.IsType<Guid>(job.Settings.InitUploadId);
            Assert.Null(job.Settings.InitImageId);
            var upload = await db.Set<UploadedImage>().SingleAsync(u => u.Id == uploadId);
            Assert.Equal(user.UserId, upload.OwnerId);
            Assert.NotNull(upload.UsedAt);
            Assert.Equal((128, 128), (upload.Width, upload.Height));
            var stored = await db.GeneratedImages.SingleAsync(i => i.OwnerId == user.UserId && i.Seed == call.Seed);
            Assert.Equal(uploadId, stored.Settings.InitUploadId);
            var store = (DiffusionGallery.Web.Gallery.ImageStore)App.Services.GetService(typeof(DiffusionGallery.Web.Gallery.ImageStore))!;
            Assert.Equal(image, await File.ReadAllBytesAsync(store.GetImagePath(stored.Id)));
            uploadIds.Add(uploadId);
        }
        Assert.Equal(2, uploadIds.Distinct().Count());
    }

    [Fact]
    public async Task Img2Img_BadInitImages_Answer422InFastApisShape_NothingQueuedOrStored()
    {
        var user = await A1111User.CreateAsync(App);
        var png = SolidPng(300, 200, new Rgb24(220, 20, 20));
        static IEnumerable<object> Loc(JsonElement detail) =>
            detail.GetProperty("loc").EnumerateArray().Select(l => l.ValueKind == JsonValueKind.Number ? (object)l.GetInt32() : l.GetString()!);

        var (missing, missingBody) = await user.PostAsync("/sdapi/v1/img2img", new { prompt = "a red circle", steps = 2 });
        Assert.Equal(HttpStatusCode.UnprocessableEntity, missing.StatusCode);
        Assert.Equal(["body", "init_images"], Loc(missingBody.GetProperty("detail")[0]));
        Assert.Equal("value_error.missing", missingBody.GetProperty("detail")[0].GetProperty("type").GetString());

        // Not base64; base64 of text; a truncated PNG; a URL (never fetched): each located at init_images[0].
        foreach (var (init, message) in new[]
        {
            ("!!not base64!!", "base64"),
            (Convert.ToBase64String("not an image at all"u8.ToArray()), "PNG"),
            ("data:image/png;base64," + png[..200], ""),
            ("http://127.0.0.1/secret.png", "URL"),
        })
        {
            var (response, body) = await user.PostAsync("/sdapi/v1/img2img", new { prompt = "a red circle", steps = 2, init_images = new[] { init } });
            Assert.Equal(HttpStatusCode.UnprocessableEntity, response.StatusCode);
            var detail = Assert.Single(body.GetProperty("detail").EnumerateArray());
            Assert.Equal(["body", "init_images", 0], Loc(detail));
            Assert.False(string.IsNullOrWhiteSpace(detail.GetProperty("msg").GetString()));
            Assert.Contains(message, detail.GetProperty("msg").GetString(), StringComparison.OrdinalIgnoreCase);
            Assert.Equal("value_error.image", detail.GetProperty("type").GetString());
        }

        var (range, rangeBody) = await user.PostAsync("/sdapi/v1/img2img", new { prompt = "a red circle", steps = 2, init_images = new[] { png }, denoising_strength = 1.5, resize_mode = 7 });
        Assert.Equal(HttpStatusCode.UnprocessableEntity, range.StatusCode);
        Assert.Equal(["denoising_strength", "resize_mode"], rangeBody.GetProperty("detail").EnumerateArray().Select(d => d.GetProperty("loc")[1].GetString()));

        await using var db = App.CreateDbContext();
        Assert.Equal(0, await db.GenerationJobs.CountAsync(j => j.OwnerId == user.UserId));
        Assert.Equal(0, await db.Set<UploadedImage>().CountAsync(u => u.OwnerId == user.UserId));
    }
}
