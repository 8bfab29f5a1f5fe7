using Microsoft.Playwright;

namespace DiffusionGallery.EndToEnd.Tests;

/// <summary>
/// Sharing in Chromium: A publishes (default visibility Public), an anonymous visitor opens the share link, B signs in,
/// remixes it from the share page, and B's new image shows A's as its parent in the lineage view.
/// </summary>
public sealed class SharingJourneyTests(BrowserFixture fixture) : IClassFixture<BrowserFixture>
{
    private const string Password = "a long enough passphrase";
    private const string Prompt = "a red circle on a blue background";

    private static string? ScreenshotDir => Environment.GetEnvironmentVariable("DG_SCREENSHOTS_DIR") is { Length: > 0 } dir ? dir : null;

    private static async Task WaitForCircuitAsync(IPage page) =>
        await page.Locator("[data-testid=interactive]").WaitForAsync(new() { State = WaitForSelectorState.Attached });

    private static async Task RegisterAsync(IPage page, string email, string handle, string displayName)
    {
        await page.GotoAsync("Account/Register");
        await page.FillAsync("#Input\\.Email", email);
        await page.FillAsync("#Input\\.Password", Password);
        await page.FillAsync("#Input\\.ConfirmPassword", Password);
        await page.FillAsync("#Input\\.Handle", handle);
        await page.FillAsync("#Input\\.DisplayName", displayName);
        await page.ClickAsync("button[type=submit]");
        await page.WaitForURLAsync(url => !url.Contains("Register"));
    }

    private static async Task<string> GenerateAsync(IPage page, string? appendToPrompt, int batch)
    {
        await WaitForCircuitAsync(page);
        var prompt = page.Locator("#prompt");
        if (appendToPrompt is null) await prompt.FillAsync(Prompt);
        else await prompt.FillAsync(await prompt.InputValueAsync() + appendToPrompt);
        var steps = page.GetByLabel("Steps");
        await steps.FillAsync("15");
        await steps.PressAsync("Tab");
        var count = page.GetByLabel("Batch count");
        await count.FillAsync(batch.ToString(System.Globalization.CultureInfo.InvariantCulture));
        await count.PressAsync("Tab");
        await prompt.PressAsync("Control+Enter");
        var card = page.Locator("[data-testid=results] [data-testid=image-card]").First;
        await card.WaitForAsync(new() { Timeout = 90_000 });
        return (await card.GetAttributeAsync("data-image-id"))!;
    }

    [Fact]
    public async Task APublishes_AnonymousOpensTheLink_BRemixes_LineageShowsAsParent()
    {
        var tag = Guid.NewGuid().ToString("N")[..8];

        // A: register with a handle, make new images Public by default, generate four.
        var alice = await fixture.NewPageAsync();
        await RegisterAsync(alice, $"alice-{tag}@example.test", $"alice-{tag}", "Alice Liddell");
        await alice.GotoAsync("Account/Manage/PublicProfile");
        await alice.SelectOptionAsync("#Input\\.DefaultVisibility", "Public");
        await alice.GetByRole(AriaRole.Button, new() { Name = "Save" }).ClickAsync(); // (not the menu's Sign out button)
        await Assertions.Expect(alice.Locator("#Input\\.DefaultVisibility")).ToHaveValueAsync("Public");
        await alice.GotoAsync("generate");
        var parentId = await GenerateAsync(alice, null, batch: 4);
        await alice.GotoAsync($"gallery/{parentId}");
        await WaitForCircuitAsync(alice);
        await Assertions.Expect(alice.GetByTestId("visibility-Public")).ToHaveAttributeAsync("aria-pressed", "true");
        var shareUrl = (await alice.GetByTestId("share-url").InnerTextAsync()).Trim();
        Assert.Matches("/s/[A-Za-z0-9_-]{32}$", shareUrl);

        // Anyone with the link, signed out: the image, its creator (never an e-mail address), a card for link previews.
        var visitor = await fixture.NewPageAsync();
        await visitor.GotoAsync(shareUrl);
        await visitor.GetByTestId("shared-image").WaitForAsync();
        await Assertions.Expect(visitor.GetByTestId("creator-link")).ToHaveTextAsync("Alice Liddell");
        await Assertions.Expect(visitor.GetByTestId("shared-prompt")).ToHaveTextAsync(Prompt);
        await Assertions.Expect(visitor.GetByTestId("remix-button")).ToContainTextAsync("Sign in to remix");
        Assert.StartsWith("http", await visitor.Locator("meta[property='og:image']").GetAttributeAsync("content"));
        Assert.DoesNotContain("@example.test", await visitor.ContentAsync());
        var ogImage = await visitor.APIRequest.GetAsync((await visitor.Locator("meta[property='og:image']").GetAttributeAsync("content"))!);
        Assert.Equal(200, ogImage.Status);
        if (ScreenshotDir is { } dir) await visitor.ScreenshotAsync(new() { Path = Path.Combine(dir, "share.png") });

        // B: sign up, open the link, remix with a changed prompt.
        var bob = await fixture.NewPageAsync();
        await RegisterAsync(bob, $"bob-{tag}@example.test", $"bob-{tag}", "Bob");
        await bob.GotoAsync(shareUrl);
        await WaitForCircuitAsync(bob);
        await bob.GetByTestId("remix-button").ClickAsync();
        await bob.WaitForURLAsync(url => url.Contains($"generate?remix={parentId}"));
        await bob.GetByTestId("remix-banner").WaitForAsync();
        await Assertions.Expect(bob.Locator("#prompt")).ToHaveValueAsync(Prompt);
        var childId = await GenerateAsync(bob, " with a small white star", batch: 1);

        // B's image: "remixed from" A's, and the lineage names A's image as the parent with what changed.
        await bob.GotoAsync($"gallery/{childId}");
        await WaitForCircuitAsync(bob);
        var ancestor = bob.Locator("[data-testid=lineage-node][data-kind=ancestor]");
        await Assertions.Expect(ancestor).ToHaveAttributeAsync("data-image-id", parentId);
        var self = bob.Locator("[data-testid=lineage-node][data-kind=self]");
        await Assertions.Expect(self.GetByTestId("lineage-diff")).ToContainTextAsync("prompt + with a small white star");
        await bob.GetByTestId("visibility-Public").ClickAsync();
        await Assertions.Expect(bob.GetByTestId("visibility-Public")).ToHaveAttributeAsync("aria-pressed", "true");
        if (ScreenshotDir is { } lineageDir)
        {
            await bob.GetByTestId("lineage").ScrollIntoViewIfNeededAsync();
            await bob.ScreenshotAsync(new() { Path = Path.Combine(lineageDir, "lineage.png") });
        }

        // Explore, signed out: A's four images and B's public remix, newest first.
        var explorer = await fixture.NewPageAsync();
        await explorer.GotoAsync("explore");
        await WaitForCircuitAsync(explorer);
        await Assertions.Expect(explorer.Locator($"[data-testid=public-card][data-image-id='{childId}']")).ToBeVisibleAsync();
        await Assertions.Expect(explorer.Locator($"[data-testid=public-card][data-image-id='{parentId}']")).ToBeVisibleAsync();
        if (ScreenshotDir is { } exploreDir) await explorer.ScreenshotAsync(new() { Path = Path.Combine(exploreDir, "explore.png") });
    }
}
