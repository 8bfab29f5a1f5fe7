using Microsoft.Playwright;

namespace DiffusionGallery.EndToEnd.Tests.Admin;

/// <summary>
/// In Chromium against the published app: the admin lowers a user's daily quota in the users table; the user sees the
/// new limit on the generate page and is refused past it, with the reset time.
/// </summary>
public sealed class AdminQuotaJourneyTests(BrowserFixture fixture) : IClassFixture<BrowserFixture>
{
    private const string Password = "a long enough passphrase";

    private static string? ScreenshotDir => Environment.GetEnvironmentVariable("DG_SCREENSHOTS_DIR") is { Length: > 0 } dir ? dir : null;

    private static Task WaitForCircuitAsync(IPage page) =>
        page.Locator("[data-testid=interactive]").WaitForAsync(new() { State = WaitForSelectorState.Attached });

    /// <summary>The input of a MudBlazor field, whether the test id sits on the input or on its wrapper.</summary>
    private static ILocator Input(IPage page, string testId) => page.Locator($"input[data-testid={testId}], [data-testid={testId}] input").First;

    private static async Task RegisterAsync(IPage page, string email)
    {
        await page.GotoAsync("Account/Register");
        await page.WaitForLoadStateAsync(LoadState.NetworkIdle); // Blazor's script has attached to the form before we submit it
        await page.FillAsync("#Input\\.Email", email);
        await page.FillAsync("#Input\\.Password", Password);
        await page.FillAsync("#Input\\.ConfirmPassword", Password);
        await page.ClickAsync("button[type=submit]");
        await page.WaitForURLAsync(url => !url.Contains("Register"), new() { Timeout = 60_000 });
    }

    private static async Task GenerateAsync(IPage page)
    {
        var prompt = page.Locator("#prompt");
        await prompt.FillAsync("a red circle on a blue background");
        var steps = page.GetByLabel("Steps");
        await steps.FillAsync("4");
        await steps.PressAsync("Tab");
        await prompt.PressAsync("Control+Enter");
    }

    [Fact]
    public async Task AdminLowersDailyQuota_UserSeesNewLimit_AndIsRefusedWithResetTime()
    {
        var admin = await fixture.NewPageAsync();
        await RegisterAsync(admin, $"admin-{Guid.NewGuid():N}@example.test"); // the first account is the Admin
        var user = await fixture.NewPageAsync();
        var userEmail = $"artist-{Guid.NewGuid():N}@example.test";
        await RegisterAsync(user, userEmail);

        // The user makes one image while the quota is unlimited.
        await user.GotoAsync("generate");
        await WaitForCircuitAsync(user);
        await GenerateAsync(user);
        await user.Locator("[data-testid=results] img").First.WaitForAsync(new() { Timeout = 60_000 });

        // The admin finds the user and sets 1 image per day.
        await admin.GotoAsync("admin/users");
        await WaitForCircuitAsync(admin);
        var search = Input(admin, "users-search");
        await search.FillAsync(userEmail[..16]);
        await search.PressAsync("Enter");
        await Assertions.Expect(admin.GetByTestId("user-email")).ToHaveCountAsync(1);
        await Assertions.Expect(admin.GetByTestId("user-email")).ToHaveTextAsync(userEmail);
        await admin.GetByTestId("user-edit").ClickAsync();
        var images = Input(admin, "quota-images");
        await images.FillAsync("1");
        await images.PressAsync("Tab");
        await admin.GetByTestId("quota-save").ClickAsync();
        await Assertions.Expect(admin.GetByTestId("quota-editor")).ToHaveCountAsync(0);
        await Assertions.Expect(admin.Locator("tr", new() { HasText = userEmail })).ToContainTextAsync("1 img");

        if (ScreenshotDir is { } dir)
        {
            await search.FillAsync("");
            await search.PressAsync("Enter");
            await Assertions.Expect(admin.GetByTestId("user-email")).ToHaveCountAsync(2);
            await admin.ScreenshotAsync(new() { Path = Path.Combine(dir, "admin-users.png") });
            await admin.GotoAsync("admin");
            await WaitForCircuitAsync(admin);
            await admin.GetByTestId("stat-images").WaitForAsync();
            await admin.WaitForTimeoutAsync(500); // let the charts draw
            await admin.ScreenshotAsync(new() { Path = Path.Combine(dir, "admin-dashboard.png") });
        }

        // The user sees the new limit, and the next image is refused with the reset time.
        await user.GotoAsync("generate");
        await WaitForCircuitAsync(user);
        await Assertions.Expect(user.GetByTestId("quota-left")).ToContainTextAsync("0 of 1 images left today");
        await Assertions.Expect(user.GetByTestId("quota-left")).ToContainTextAsync("UTC");
        await GenerateAsync(user);
        var error = user.GetByTestId("generate-error");
        await Assertions.Expect(error).ToContainTextAsync("images per day");
        await Assertions.Expect(error).ToContainTextAsync("0 left");
        await Assertions.Expect(error).ToContainTextAsync("resets at");
    }
}
