using Microsoft.Playwright;

namespace DiffusionGallery.EndToEnd.Tests;

/// <summary>
/// What a new user hit (UI items 3 and 4), in a real browser: the selected size chip looks different, out-of-range
/// input is kept as typed and refused with the limit under the field, and a field's message goes when it is edited.
/// </summary>
public sealed class GenerateFormTests(BrowserFixture fixture) : IClassFixture<BrowserFixture>
{
    private static string? ScreenshotDir => Environment.GetEnvironmentVariable("DG_SCREENSHOTS_DIR") is { Length: > 0 } dir ? dir : null;

    private static Task<string> BackgroundAsync(ILocator chip) => chip.EvaluateAsync<string>("e => getComputedStyle(e).backgroundColor");

    [Fact]
    public async Task SelectedSizeChipStandsOut_OutOfRangeKeptAndRefusedUnderTheField_MessageGoesOnEdit()
    {
        var page = await fixture.NewPageAsync();
        await page.GotoAsync("Account/Register");
        await page.FillAsync("#Input\\.Email", $"form-{Guid.NewGuid():N}@example.test");
        await page.FillAsync("#Input\\.Password", "a long enough passphrase");
        await page.FillAsync("#Input\\.ConfirmPassword", "a long enough passphrase");
        await page.ClickAsync("button[type=submit]");
        await page.WaitForURLAsync(url => !url.Contains("Register"));
        await page.GotoAsync("generate");
        await page.Locator("[data-testid=interactive]").WaitForAsync(new() { State = WaitForSelectorState.Attached });

        // The chosen size is filled; the others are not.
        var square = page.GetByTestId("size-square");
        var landscape = page.GetByTestId("size-landscape");
        await Assertions.Expect(square).ToHaveAttributeAsync("aria-pressed", "true");
        Assert.NotEqual(await BackgroundAsync(landscape), await BackgroundAsync(square));
        await landscape.ClickAsync();
        await Assertions.Expect(landscape).ToHaveAttributeAsync("aria-pressed", "true");
        Assert.NotEqual(await BackgroundAsync(square), await BackgroundAsync(landscape));

        // Out-of-range values stay as typed and are refused with the limit under each field.
        var steps = page.GetByLabel("Steps");
        await steps.FillAsync("9999");
        await steps.PressAsync("Tab");
        var cfg = page.GetByLabel("CFG scale");
        await cfg.FillAsync("999");
        await cfg.PressAsync("Tab");
        var pasted = string.Join(' ', Enumerable.Repeat("circle", 1500)); // 10,499 characters
        await page.Locator("#prompt").FillAsync(pasted);
        await page.GetByTestId("generate").ClickAsync();

        await Assertions.Expect(page.GetByText("Steps must be between 1 and 100.")).ToBeVisibleAsync();
        await Assertions.Expect(page.GetByText("CFG scale must be between 0 and 30.")).ToBeVisibleAsync();
        await Assertions.Expect(page.GetByText($"The prompt is {pasted.Length} characters long; the limit is 1000.")).ToBeVisibleAsync();
        Assert.Equal("9999", await steps.InputValueAsync());
        Assert.Equal("999", (await cfg.InputValueAsync()).Split('.')[0]);
        Assert.Equal(pasted.Length, (await page.Locator("#prompt").InputValueAsync()).Length);
        await Assertions.Expect(page.GetByTestId("job-progress")).ToHaveCountAsync(0); // nothing was queued
        if (ScreenshotDir is { } dir) await page.ScreenshotAsync(new() { Path = Path.Combine(dir, "generate-limits.png") });

        // Editing a field takes its message away; the others stay until their fields are edited.
        await steps.FillAsync("20");
        await steps.PressAsync("Tab");
        await Assertions.Expect(page.GetByText("Steps must be between 1 and 100.")).ToHaveCountAsync(0);
        await Assertions.Expect(page.GetByText("CFG scale must be between 0 and 30.")).ToBeVisibleAsync();
        await page.Locator("#prompt").FillAsync("a red circle");
        await Assertions.Expect(page.GetByText("characters long; the limit is 1000.", new() { Exact = false })).ToHaveCountAsync(0);
    }
}
