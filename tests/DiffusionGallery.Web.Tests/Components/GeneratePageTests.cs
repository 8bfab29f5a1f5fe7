using System.Security.Claims;
using Bunit;
using Bunit.TestDoubles;
using DiffusionGallery.Inference.Abstractions;
using DiffusionGallery.Web.Data.Entities;
using DiffusionGallery.Web.Generation;
using DiffusionGallery.Web.Tests.Support;
using Microsoft.AspNetCore.Components.Authorization;
using Microsoft.AspNetCore.Components.Web;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using GeneratePage = DiffusionGallery.Web.Components.Pages.Generate.Generate;
using MsOptions = Microsoft.Extensions.Options.Options;

namespace DiffusionGallery.Web.Tests.Components;

/// <summary>The generate page with the real queue, worker and database around a fake engine.</summary>
public sealed class GeneratePageTests : MudTestContext, IDisposable
{
    private readonly QueueHarness _h = new();
    private BunitAuthorizationContext? _auth;

    protected override void ConfigureServices(IServiceCollection services)
    {
        services.AddSingleton<IImageGenerator>(_h.Generator);
        services.AddSingleton(_h.Gallery);
        services.AddSingleton(_h.Uploads);
        services.AddSingleton(new UserPreferencesService(_h.Database, TimeProvider.System));
        services.AddSingleton(MsOptions.Create(_h.Options));
        services.AddSingleton(_h.Quotas);
        services.AddSingleton(_h.Queue);
        services.AddSingleton<DiffusionGallery.Web.Quotas.IQuotaPolicyProvider>(_h.Policy);
        AddCurrentUser(services);
        services.AddScoped(sp => _h.CreateSession(sp.GetRequiredService<DiffusionGallery.Web.Accounts.ICurrentUser>()));
        services.AddSingleton<Microsoft.EntityFrameworkCore.IDbContextFactory<DiffusionGallery.Web.Data.ApplicationDbContext>>(_h.Database);
        services.AddLogging();
        Microsoft.Extensions.Hosting.SharingExtensions.AddSharingServices(services);
        _auth = AddAuthorization();
    }

    private async Task<string> SignInAsync(GenerationSettings? saved = null)
    {
        var userId = await _h.Database.AddUserAsync("me@x.test");
        _auth!.SetAuthorized("me@x.test");
        _auth.SetClaims(new Claim(ClaimTypes.NameIdentifier, userId));
        if (saved is not null) await new UserPreferencesService(_h.Database, TimeProvider.System).SaveAsync(userId, saved, Xunit.TestContext.Current.CancellationToken);
        return userId;
    }

    [Fact]
    public async Task InvalidRememberedSettings_SubmitShowsTheServiceMessage_AndQueuesNothing()
    {
        await SignInAsync(new GenerationSettings { Prompt = "a red circle", Model = "tiny-shapes", Steps = 500, Seed = 3 });
        var page = Render<GeneratePage>();
        page.WaitForAssertion(() => Assert.Equal("a red circle", page.Find("textarea").GetAttribute("value") ?? page.Find("textarea").TextContent));

        await page.InvokeAsync(() => page.FindComponent<DiffusionGallery.Web.Components.Pages.Generate.PromptForm>().Instance.SubmitAsync());

        // The message sits under the Steps field (with the limit), not in a general alert.
        page.WaitForAssertion(() => Assert.Contains("Steps must be between 1 and 100.", FieldText(page, "steps")));
        Assert.Empty(page.FindAll("[data-testid=generate-error]"));
        Assert.Equal(0, _h.Queue.QueuedCount);
        Assert.Equal("a red circle", page.FindComponent<DiffusionGallery.Web.Components.Pages.Generate.PromptForm>().Instance.Settings.Prompt); // nothing lost
    }

    [Fact]
    public async Task RefusedSettings_AreNotRemembered_AcceptedOnesAre()
    {
        var userId = await SignInAsync(new GenerationSettings { Prompt = "a red circle", Model = "tiny-shapes", Steps = 20, Seed = 3 });
        var preferences = new UserPreferencesService(_h.Database, TimeProvider.System);
        var page = Render<GeneratePage>();
        page.WaitForAssertion(() => page.Find("textarea"));
        var form = page.FindComponent<DiffusionGallery.Web.Components.Pages.Generate.PromptForm>();

        page.Find("textarea").Input(new string('a', 1100));
        page.Find("[data-testid=generate]").Click();
        page.WaitForAssertion(() => Assert.Contains("1000", FieldText(page, "prompt")));
        Assert.Equal("a red circle", (await preferences.LoadAsync(userId, Xunit.TestContext.Current.CancellationToken))?.Prompt);

        page.Find("textarea").Input("a blue square");
        page.Find("[data-testid=generate]").Click();
        page.WaitForAssertion(() => Assert.Equal(1, _h.Queue.QueuedCount));
        Assert.Equal("a blue square", (await preferences.LoadAsync(userId, Xunit.TestContext.Current.CancellationToken))?.Prompt);
    }

    [Fact]
    public async Task ARemixsKeptSeed_IsUsedOnce_ButNotRememberedAsTheUsersSeed()
    {
        var userId = await SignInAsync(new GenerationSettings { Prompt = "a red circle", Model = "tiny-shapes", Steps = 20, Seed = -1 });
        var creator = await _h.Database.AddUserAsync("creator@x.test");
        var original = await Sharing.SharingSeed.AddImageAsync(_h.Database, _h.Store, creator, "a green star", ImageVisibility.Public, seed: 4242);
        Services.GetRequiredService<Microsoft.AspNetCore.Components.NavigationManager>().NavigateTo($"generate?remix={original.Id}");
        var page = Render<GeneratePage>();
        var form = page.FindComponent<DiffusionGallery.Web.Components.Pages.Generate.PromptForm>();
        page.WaitForAssertion(() => Assert.Equal(original.Seed, form.Instance.Settings.Seed));

        page.Find("[data-testid=size-square]").Click(); // (the seeded image records no size)
        page.Find("[data-testid=generate]").Click();
        page.WaitForAssertion(() => Assert.Equal(1, _h.Queue.QueuedCount));

        var remembered = await new UserPreferencesService(_h.Database, TimeProvider.System).LoadAsync(userId, Xunit.TestContext.Current.CancellationToken);
        Assert.Equal("a green star", remembered?.Prompt); // what was last generated
        Assert.Equal(-1, remembered?.Seed); // random again, as before the remix
    }

    [Fact]
    public async Task UseAsReference_AnothersPublicImage_IsChosen_ButNotOneThatForbidsRemix_OrIsUnlisted()
    {
        await SignInAsync();
        var creator = await _h.Database.AddUserAsync("creator@x.test");
        var open = await Sharing.SharingSeed.AddImageAsync(_h.Database, _h.Store, creator, "a red circle", ImageVisibility.Public);
        var closed = await Sharing.SharingSeed.AddImageAsync(_h.Database, _h.Store, creator, "a blue star", ImageVisibility.Public, allowRemix: false);
        var unlisted = await Sharing.SharingSeed.AddImageAsync(_h.Database, _h.Store, creator, "a green square", ImageVisibility.Unlisted);
        var navigation = Services.GetRequiredService<Microsoft.AspNetCore.Components.NavigationManager>();

        navigation.NavigateTo($"generate?reference={open.Id}");
        var page = Render<GeneratePage>();
        page.WaitForAssertion(() => Assert.Equal($"images/{open.Id}/thumb", page.Find("[data-testid=reference-thumb]").GetAttribute("src")));
        Assert.Contains("gallery image", page.Find("[data-testid=reference-chosen]").TextContent);
        Assert.Empty(page.FindAll("[data-testid=generate-error]"));

        foreach (var (image, message) in new[] { (closed, "does not allow remixing"), (unlisted, "not shared with you") })
        {
            navigation.NavigateTo($"generate?reference={image.Id}");
            var refused = Render<GeneratePage>();
            refused.WaitForAssertion(() => Assert.Contains(message, refused.Find("[data-testid=generate-error]").TextContent));
            Assert.Empty(refused.FindAll("[data-testid=reference-chosen]"));
        }
    }

    /// <summary>Everything shown in a field's control (label, value, helper or error text).</summary>
    internal static string FieldText(IRenderedComponent<GeneratePage> page, string testId) =>
        page.FindAll(".mud-input-control").Single(c => c.QuerySelector($"[data-testid={testId}]") is not null).TextContent;

    [Fact]
    public async Task OutOfRangeTyped_IsRefusedWithTheLimitUnderTheField_KeptAsTyped_AndTheMessageGoesOnEdit()
    {
        await SignInAsync(new GenerationSettings { Prompt = "a red circle", Model = "tiny-shapes", Steps = 20, Seed = 3 });
        var page = Render<GeneratePage>();
        page.WaitForAssertion(() => page.Find("textarea"));
        var form = page.FindComponent<DiffusionGallery.Web.Components.Pages.Generate.PromptForm>();

        PromptFormTests.Input(form, "steps").Change("9999");
        PromptFormTests.Input(form, "cfg").Change("999");
        page.Find("[data-testid=generate]").Click();

        page.WaitForAssertion(() => Assert.Contains("Steps must be between 1 and 100.", FieldText(page, "steps")));
        Assert.Contains("CFG scale must be between 0 and 30.", FieldText(page, "cfg"));
        Assert.Equal(9999, form.Instance.Settings.Steps); // kept as typed, not clamped
        Assert.Equal(0, _h.Queue.QueuedCount);

        PromptFormTests.Input(form, "steps").Change("30");
        page.WaitForAssertion(() => Assert.DoesNotContain("Steps must be between", FieldText(page, "steps")));
        Assert.Contains("CFG scale must be between 0 and 30.", FieldText(page, "cfg"));
    }

    [Fact]
    public async Task EmptyPromptError_GoesAwayWhenAPromptIsTyped()
    {
        await SignInAsync(new GenerationSettings { Prompt = "  ", Model = "tiny-shapes", Steps = 20, Seed = 3 });
        var page = Render<GeneratePage>();
        page.WaitForAssertion(() => page.Find("textarea"));

        page.Find("[data-testid=generate]").Click();
        page.WaitForAssertion(() => Assert.Contains("The prompt is empty.", page.Markup));

        page.Find("textarea").Input("a red circle");
        page.WaitForAssertion(() => Assert.DoesNotContain("The prompt is empty.", page.Markup));
    }

    [Fact]
    public async Task NewUser_GetsTheModelsRecommendedSamplerWithKarras()
    {
        _h.Generator.Models = [FakeImageGenerator.Model with { RecommendedSampler = SamplerKind.Euler, RecommendedKarras = true, RecommendedSteps = 18 }];
        await SignInAsync();
        var page = Render<GeneratePage>();

        page.WaitForAssertion(() => Assert.Equal("a red circle", page.FindComponent<DiffusionGallery.Web.Components.Pages.Generate.PromptForm>().Instance.Settings.Prompt));

        var settings = page.FindComponent<DiffusionGallery.Web.Components.Pages.Generate.PromptForm>().Instance.Settings;
        Assert.Equal((SamplerKind.Euler, true, 18), (settings.Sampler, settings.KarrasSigmas, settings.Steps));
        var karras = page.Find("input[data-testid=karras]");
        Assert.True(karras.HasAttribute("checked"));
        Assert.False(karras.HasAttribute("disabled"));
    }

    [Fact]
    public async Task Submit_ShowsProgressThenResults_WithTheSeedUsed()
    {
        await SignInAsync(new GenerationSettings { Prompt = "a blue square", Model = "tiny-shapes", Steps = 6, Seed = 77 });
        using var worker = _h.CreateWorker();
        await worker.StartAsync(Xunit.TestContext.Current.CancellationToken);
        var page = Render<GeneratePage>();
        page.WaitForAssertion(() => page.Find("textarea"));

        page.Find("textarea").KeyDown(new KeyboardEventArgs { Key = "Enter", CtrlKey = true });

        page.WaitForAssertion(() => Assert.Single(page.FindAll("[data-testid=results] [data-testid=image-card]")), TimeSpan.FromSeconds(20));
        Assert.Contains("Seed 77", page.Find("[data-testid=used-seed]").TextContent);
        Assert.Equal("Succeeded", page.Find("[data-testid=job-progress]").GetAttribute("data-state"));
        await worker.StopAsync(Xunit.TestContext.Current.CancellationToken);
    }

    [Fact]
    public async Task RecentImages_StayInReach_AfterNewRuns_TheCurrentOneShownAboveThemNotTwice()
    {
        var userId = await SignInAsync(new GenerationSettings { Prompt = "a blue square", Model = "tiny-shapes", Steps = 6, Seed = 5 });
        var older = await Sharing.SharingSeed.AddImageAsync(_h.Database, _h.Store, userId, "an older red circle", createdAt: DateTimeOffset.UtcNow.AddMinutes(-5));
        var someoneElses = await Sharing.SharingSeed.AddImageAsync(_h.Database, _h.Store, await _h.Database.AddUserAsync("other@x.test"), "not mine", ImageVisibility.Public);
        using var worker = _h.CreateWorker();
        await worker.StartAsync(Xunit.TestContext.Current.CancellationToken);
        var page = Render<GeneratePage>();
        string[] Recent() => page.FindAll("[data-testid=recent-image]").Select(a => a.GetAttribute("data-image-id")!).ToArray();
        page.WaitForAssertion(() => Assert.Equal([older.Id.ToString()], Recent()));

        page.Find("[data-testid=generate]").Click();

        page.WaitForAssertion(() => Assert.Single(page.FindAll("[data-testid=results] [data-testid=image-card]")), TimeSpan.FromSeconds(20));
        var made = page.Find("[data-testid=results] [data-testid=image-card]").GetAttribute("data-image-id");
        page.WaitForAssertion(() => Assert.Equal([older.Id.ToString()], Recent())); // the new one is above, not twice
        Assert.DoesNotContain(someoneElses.Id.ToString(), page.Markup);

        page.Find("[data-testid=generate]").Click(); // a second run: the first one's image joins the recent ones, newest first
        page.WaitForAssertion(() => Assert.NotEqual(made, page.Find("[data-testid=results] [data-testid=image-card]").GetAttribute("data-image-id")), TimeSpan.FromSeconds(20));
        page.WaitForAssertion(() => Assert.Equal([made!, older.Id.ToString()], Recent()));
        await worker.StopAsync(Xunit.TestContext.Current.CancellationToken);
    }

    public new void Dispose()
    {
        base.Dispose();
        _h.Dispose();
    }
}
