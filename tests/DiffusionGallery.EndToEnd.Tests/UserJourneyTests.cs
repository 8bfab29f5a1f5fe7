using System.Text.Json;
using DiffusionGallery.Web.Tests.Support;
using Microsoft.Playwright;

namespace DiffusionGallery.EndToEnd.Tests;

public sealed class UserJourneyTests(BrowserFixture fixture) : IClassFixture<BrowserFixture>
{
    private const string Password = "a long enough passphrase";

    /// <summary>When set (scripts/screenshots.sh), the journey saves PNG screenshots there.</summary>
    private static string? ScreenshotDir => Environment.GetEnvironmentVariable("DG_SCREENSHOTS_DIR") is { Length: > 0 } dir ? dir : null;

    private static async Task WaitForCircuitAsync(IPage page) =>
        await page.Locator("[data-testid=interactive]").WaitForAsync(new() { State = WaitForSelectorState.Attached });

    [Fact]
    public async Task RegisterSignInGenerate_PreviewChanges_ResultInGallery_DownloadHasParameters()
    {
        var page = await fixture.NewPageAsync();
        var email = $"e2e-{Guid.NewGuid():N}@example.test";

        // Register (static form) — lands signed in.
        await page.GotoAsync("Account/Register");
        await page.FillAsync("#Input\\.Email", email);
        await page.FillAsync("#Input\\.Password", Password);
        await page.FillAsync("#Input\\.ConfirmPassword", Password);
        await page.ClickAsync("button[type=submit]");
        await page.WaitForURLAsync(url => !url.Contains("Register"));

        // Sign out, then sign in again.
        await page.GotoAsync("");
        await WaitForCircuitAsync(page);
        await page.GetByRole(AriaRole.Button, new() { Name = "Sign out" }).ClickAsync();
        await page.GotoAsync("Account/Login");
        await page.FillAsync("#Input\\.Email", email);
        await page.FillAsync("#Input\\.Password", Password);
        await page.ClickAsync("button[type=submit]");
        await page.WaitForURLAsync(url => !url.Contains("Login"));
        await Assertions.Expect(page.GetByTestId("account-link")).ToContainTextAsync(email);

        // Generate, watching the live preview.
        await page.GotoAsync("generate");
        await WaitForCircuitAsync(page);
        var prompt = page.Locator("#prompt");
        await prompt.FillAsync("a red circle on a blue background");
        var steps = page.GetByLabel("Steps");
        await steps.FillAsync("100");
        await steps.PressAsync("Tab");
        await page.GetByTestId("size-large").ClickAsync(); // long enough for several previews (at most 10 a second) on any machine
        await page.EvaluateAsync("""
            () => {
              window.__previews = new Set();
              const record = () => document.querySelectorAll('[data-testid=preview]').forEach(i => window.__previews.add(i.getAttribute('src')));
              new MutationObserver(record).observe(document.body, { subtree: true, childList: true, attributes: true, attributeFilter: ['src'] });
            }
            """);
        await prompt.PressAsync("Control+Enter");

        await page.Locator("[data-testid=preview]").WaitForAsync();
        if (ScreenshotDir is { } dir)
        {
            // Half way through, where the image has begun to emerge from the noise.
            await page.WaitForFunctionAsync("() => { const p = document.querySelector('[data-testid=preview]'); return p !== null && Number(p.getAttribute('data-step')) >= 45; }");
            await page.ScreenshotAsync(new() { Path = Path.Combine(dir, "generate.png") });
        }
        var card = page.Locator("[data-testid=results] [data-testid=image-card]").First;
        await card.WaitForAsync(new() { Timeout = 60_000 });
        var distinctPreviews = await page.EvaluateAsync<int>("() => window.__previews.size");
        Assert.True(distinctPreviews >= 2, $"the preview changed only {distinctPreviews} time(s)");
        Assert.Contains("Seed", await page.GetByTestId("used-seed").InnerTextAsync());
        var imageId = await card.GetAttributeAsync("data-image-id");
        Assert.NotNull(imageId);

        // The gallery shows it, newest first.
        await page.GotoAsync("gallery");
        await WaitForCircuitAsync(page);
        var galleryCard = page.Locator($"[data-testid=gallery-grid] [data-image-id='{imageId}']");
        await galleryCard.WaitForAsync();
        Assert.Equal(imageId, await page.Locator("[data-testid=gallery-grid] [data-testid=image-card]").First.GetAttributeAsync("data-image-id"));
        if (ScreenshotDir is { } galleryDir)
        {
            await page.WaitForFunctionAsync("() => [...document.querySelectorAll('.dg-thumb')].every(i => i.complete && i.naturalWidth > 0)");
            await page.ScreenshotAsync(new() { Path = Path.Combine(galleryDir, "gallery.png") });
        }

        // Download through the owner-checked endpoint and read the A1111 parameters chunk.
        var download = await page.RunAndWaitForDownloadAsync(() => galleryCard.Locator("[data-testid=download]").ClickAsync());
        var file = Path.Combine(fixture.App.DataDir, "download.png");
        await download.SaveAsAsync(file);
        var parameters = PngChunks.ReadText(await File.ReadAllBytesAsync(file))["parameters"];
        Assert.StartsWith("a red circle on a blue background", parameters);
        Assert.Contains("Steps: 100", parameters);

        // The image detail page shows every setting.
        await page.GotoAsync($"gallery/{imageId}");
        await WaitForCircuitAsync(page);
        await Assertions.Expect(page.GetByTestId("detail-prompt")).ToHaveTextAsync("a red circle on a blue background");
        if (ScreenshotDir is { } detailDir)
            await page.ScreenshotAsync(new() { Path = Path.Combine(detailDir, "detail.png") });

        // A personal access token is created in the UI, shown once, and works against the API.
        await page.GotoAsync("account/tokens");
        await WaitForCircuitAsync(page);
        await page.GetByLabel("Token name").FillAsync("e2e");
        await page.GetByRole(AriaRole.Button, new() { Name = "Create token" }).ClickAsync();
        var secret = (await page.GetByTestId("new-token").InnerTextAsync()).Trim();
        Assert.StartsWith("dgp_", secret);
        using var api = new HttpClient { BaseAddress = fixture.App.BaseUrl };
        api.DefaultRequestHeaders.Authorization = new("Bearer", secret);
        var images = await api.GetStringAsync("api/images");
        Assert.Contains(imageId, images);
        if (ScreenshotDir is { } tokenDir)
        {
            await page.ScreenshotAsync(new() { Path = Path.Combine(tokenDir, "tokens.png") });
            await page.GotoAsync("Account/Manage/ChangePassword");
            await page.ScreenshotAsync(new() { Path = Path.Combine(tokenDir, "account.png") });
        }
    }

    [Fact]
    public async Task CancelButton_StopsTheRunningJob_NothingSaved_SettingsRemembered()
    {
        var page = await fixture.NewPageAsync();
        await page.GotoAsync("Account/Register");
        await page.FillAsync("#Input\\.Email", $"cancel-{Guid.NewGuid():N}@example.test");
        await page.FillAsync("#Input\\.Password", Password);
        await page.FillAsync("#Input\\.ConfirmPassword", Password);
        await page.ClickAsync("button[type=submit]");
        await page.WaitForURLAsync(url => !url.Contains("Register"));

        await page.GotoAsync("generate");
        await WaitForCircuitAsync(page);
        await page.Locator("#prompt").FillAsync("a green triangle");
        var steps = page.GetByLabel("Steps");
        await steps.FillAsync("100");
        await steps.PressAsync("Tab");
        // The largest size and four images: the job must still be running when the click arrives, on any machine.
        await page.GetByTestId("size-large").ClickAsync();
        var count = page.GetByLabel("Batch count");
        await count.FillAsync("4");
        await count.PressAsync("Tab");
        await page.GetByTestId("generate").ClickAsync();
        await page.Locator("[data-testid=preview]").WaitForAsync();
        await page.GetByTestId("cancel").ClickAsync();

        await Assertions.Expect(page.GetByTestId("job-progress")).ToHaveAttributeAsync("data-state", "Cancelled");
        Assert.Equal(0, await page.Locator("[data-testid=results] [data-testid=image-card]").CountAsync());

        // Settings are remembered for the user: a fresh page load shows them again.
        await page.GotoAsync("generate");
        await WaitForCircuitAsync(page);
        await Assertions.Expect(page.Locator("#prompt")).ToHaveValueAsync("a green triangle");
        await Assertions.Expect(page.GetByLabel("Steps")).ToHaveValueAsync("100");

        await page.GotoAsync("gallery");
        await WaitForCircuitAsync(page);
        await page.GetByTestId("gallery-empty").WaitForAsync();
    }

    [Fact]
    public async Task TabsOverThePerUserCap_AreRefused_AndClosingOneFreesASlot()
    {
        var first = await fixture.NewPageAsync();
        await first.GotoAsync("Account/Register");
        await first.FillAsync("#Input\\.Email", $"tabs-{Guid.NewGuid():N}@example.test");
        await first.FillAsync("#Input\\.Password", Password);
        await first.FillAsync("#Input\\.ConfirmPassword", Password);
        await first.ClickAsync("button[type=submit]");
        await first.WaitForURLAsync(url => !url.Contains("Register"));
        var context = first.Context;

        var tabs = new List<IPage>();
        for (var i = 0; i < AppProcess.MaxCircuitsPerUser; i++)
        {
            var tab = i == 0 ? first : await context.NewPageAsync();
            await tab.GotoAsync("gallery");
            await WaitForCircuitAsync(tab);
            tabs.Add(tab);
        }
        var extra = await context.NewPageAsync();
        await extra.GotoAsync("gallery");
        await Assertions.Expect(extra.Locator("#blazor-error-ui")).ToBeVisibleAsync();
        Assert.Equal(0, await extra.Locator("[data-testid=interactive]").CountAsync());
        Assert.Contains($"circuits already open", fixture.App.Output);

        await tabs[0].CloseAsync();
        var again = await context.NewPageAsync();
        await again.GotoAsync("gallery");
        await again.Locator("[data-testid=interactive]").WaitForAsync(new() { State = WaitForSelectorState.Attached, Timeout = 15_000 });
    }

    [Fact]
    public async Task PublishedApp_ServesRootWwwrootAndShipsRootAppsettings()
    {
        using var http = new HttpClient { BaseAddress = fixture.App.BaseUrl };
        Assert.Equal(await File.ReadAllTextAsync(Path.Combine(RepoPaths.Root, "wwwroot", "app.css")), await http.GetStringAsync("app.css"));
        var shipped = JsonDocument.Parse(await File.ReadAllTextAsync(Path.Combine(fixture.App.AppDir, "appsettings.json")));
        var root = JsonDocument.Parse(await File.ReadAllTextAsync(Path.Combine(RepoPaths.Root, "appsettings.json")));
        Assert.Equal(root.RootElement.GetRawText(), shipped.RootElement.GetRawText());
        Assert.False(File.Exists(Path.Combine(RepoPaths.Root, "src", "DiffusionGallery.Web", "appsettings.json")));
        Assert.Contains("Model tiny-shapes loaded", fixture.App.Output);
        Assert.Contains("DiffusionGallery is ready: open http://127.0.0.1:", fixture.App.Output);
    }
}
