using Microsoft.Playwright;

namespace DiffusionGallery.EndToEnd.Tests;

/// <summary>At 390×844 (a phone): a menu instead of the overflowing app bar, and the progress comes into view after Generate.</summary>
public sealed class PhoneLayoutTests(BrowserFixture fixture) : IClassFixture<BrowserFixture>
{
    private const string Password = "a long enough passphrase";
    private const int Width = 390, Height = 844;

    /// <summary>Visible elements that stick out of the viewport sideways (and the page's horizontal overflow).</summary>
    private const string OffScreenScript = """
        () => {
          const out = [];
          if (document.documentElement.scrollWidth > window.innerWidth) out.push(`page is ${document.documentElement.scrollWidth}px wide`);
          for (const el of document.querySelectorAll('header *, .mud-appbar *, main *, .dg-nav-panel *')) {
            const r = el.getBoundingClientRect();
            const style = getComputedStyle(el);
            if (r.width === 0 || r.height === 0 || style.visibility === 'hidden' || style.display === 'none') continue;
            if (el.closest('.mud-popover-provider') || el.closest('[hidden]')) continue;
            // Content of a closed <details> (the menu) keeps a layout box but is not shown.
            const details = el.closest('details');
            if ((details && !details.open && !el.closest('summary')) || (el.checkVisibility && !el.checkVisibility())) continue;
            if (r.left < -1 || r.right > window.innerWidth + 1)
              out.push(`${el.tagName.toLowerCase()}.${el.className} "${(el.textContent || '').trim().slice(0, 30)}" ${Math.round(r.left)}..${Math.round(r.right)}`);
          }
          return out;
        }
        """;

    private async Task<IPage> NewPhonePageAsync()
    {
        var context = await fixture.Browser.NewContextAsync(new BrowserNewContextOptions
        {
            BaseURL = fixture.App.BaseUrl.ToString(),
            ViewportSize = new ViewportSize { Width = Width, Height = Height },
            IsMobile = true,
            HasTouch = true,
            ColorScheme = ColorScheme.Dark,
        });
        context.SetDefaultTimeout(30_000);
        return await context.NewPageAsync();
    }

    private static async Task WaitForCircuitAsync(IPage page) =>
        await page.Locator("[data-testid=interactive]").WaitForAsync(new() { State = WaitForSelectorState.Attached });

    private static async Task AssertNothingOffScreenAsync(IPage page, string where)
    {
        var offenders = await page.EvaluateAsync<string[]>(OffScreenScript);
        Assert.True(offenders.Length == 0, $"{where}: off screen:\n" + string.Join("\n", offenders));
    }

    [Fact]
    public async Task Phone_MenuHoldsNavigationAndSignOut_NothingOffScreen_ProgressScrollsIntoView()
    {
        var page = await NewPhonePageAsync();
        await page.GotoAsync("Account/Register");
        await AssertNothingOffScreenAsync(page, "register page");
        await page.FillAsync("#Input\\.Email", $"phone-{Guid.NewGuid():N}@example.test");
        await page.FillAsync("#Input\\.Password", Password);
        await page.FillAsync("#Input\\.ConfirmPassword", Password);
        await page.ClickAsync("button[type=submit]");
        await page.WaitForURLAsync(url => !url.Contains("Register"));

        await page.GotoAsync("generate");
        await WaitForCircuitAsync(page);
        await AssertNothingOffScreenAsync(page, "generate page");
        Assert.False(await page.GetByRole(AriaRole.Button, new() { Name = "Sign out" }).IsVisibleAsync()); // not in the bar any more

        // Generate: the output column sits below the form on a phone, and comes into view.
        var outputTop = "() => document.getElementById('generate-output').getBoundingClientRect().top";
        Assert.True(await page.EvaluateAsync<double>(outputTop) > Height / 2.0, "the output should start below the fold on a phone");
        var prompt = page.Locator("#prompt");
        await prompt.FillAsync("a yellow star on a green background");
        await page.EvaluateAsync("() => window.scrollTo(0, 0)");
        await prompt.PressAsync("Control+Enter"); // submits without scrolling the page (a click would scroll to the button)
        await page.GetByTestId("job-progress").WaitForAsync();
        // In view: the progress panel's top is on screen (the page scrolled as far as it can towards it).
        try
        {
            await page.WaitForFunctionAsync("""
                () => { const r = document.querySelector('[data-testid=job-progress]').getBoundingClientRect();
                        return r.top >= 0 && r.top < window.innerHeight - 100; }
                """);
        }
        catch (TimeoutException)
        {
            var state = await page.EvaluateAsync<string>("""
                () => `scrollY=${window.scrollY} docHeight=${document.documentElement.scrollHeight} ` +
                      `outputTop=${document.getElementById('generate-output').getBoundingClientRect().top} ` +
                      `progressTop=${document.querySelector('[data-testid=job-progress]').getBoundingClientRect().top} ` +
                      `active=${document.activeElement?.tagName}#${document.activeElement?.id}`
                """);
            Assert.Fail("the progress panel did not come into view: " + state);
        }


        // The menu: everything on screen, Sign out reachable.
        await page.GetByTestId("nav-menu-button").ClickAsync();
        var signOut = page.GetByTestId("nav-menu").GetByRole(AriaRole.Button, new() { Name = "Sign out" });
        await Assertions.Expect(signOut).ToBeVisibleAsync();
        await Assertions.Expect(page.GetByTestId("nav-menu").GetByRole(AriaRole.Link, new() { Name = "My gallery" })).ToBeVisibleAsync();
        await AssertNothingOffScreenAsync(page, "open menu");
        await signOut.ClickAsync();

        await page.WaitForURLAsync(url => url.Contains("Account/Login", StringComparison.Ordinal)); // /generate needs sign-in now
        await page.GetByTestId("nav-menu-button").ClickAsync();
        await Assertions.Expect(page.GetByTestId("nav-menu").GetByRole(AriaRole.Link, new() { Name = "Sign in" })).ToBeVisibleAsync();
        await AssertNothingOffScreenAsync(page, "sign-in page");
        await page.Context.CloseAsync();
    }
}
