using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;
using Microsoft.Playwright;

namespace DiffusionGallery.EndToEnd.Tests;

/// <summary>The Content-Security-Policy crawl, sign-out reaching other browsers, and the not-found page of the published app.</summary>
public sealed class SecurityJourneyTests(BrowserFixture fixture) : IClassFixture<BrowserFixture>
{
    private const string Password = "a long enough passphrase";

    private static async Task WaitForCircuitAsync(IPage page) =>
        await page.Locator("[data-testid=interactive]").WaitForAsync(new() { State = WaitForSelectorState.Attached });

    private static async Task RegisterAsync(IPage page, string email)
    {
        await page.GotoAsync("Account/Register");
        await page.FillAsync("#Input\\.Email", email);
        await page.FillAsync("#Input\\.Password", Password);
        await page.FillAsync("#Input\\.ConfirmPassword", Password);
        await page.ClickAsync("button[type=submit]");
        await page.WaitForURLAsync(url => !url.Contains("Register"));
    }

    private static async Task SignInAsync(IPage page, string email)
    {
        await page.GotoAsync("Account/Login");
        await page.FillAsync("#Input\\.Email", email);
        await page.FillAsync("#Input\\.Password", Password);
        await page.ClickAsync("button[type=submit]");
        await page.WaitForURLAsync(url => !url.Contains("Login"));
    }

    /// <summary>Records CSP violations (console reports and securitypolicyviolation events) and passkey SecurityErrors of a page.</summary>
    private static async Task<ConcurrentQueue<string>> WatchAsync(IPage page)
    {
        var problems = new ConcurrentQueue<string>();
        await page.Context.AddInitScriptAsync("""
            document.addEventListener('securitypolicyviolation', e =>
              console.error(`Content Security Policy violation: ${e.violatedDirective} blocked ${e.blockedURI} at ${e.sourceFile}:${e.lineNumber}`));
            """);
        page.Console += (_, message) =>
        {
            if (message.Text.Contains("Content Security Policy", StringComparison.OrdinalIgnoreCase) || message.Text.Contains("SecurityError", StringComparison.Ordinal))
                problems.Enqueue($"{page.Url}: [{message.Type}] {message.Text}");
        };
        page.PageError += (_, error) => problems.Enqueue($"{page.Url}: uncaught {error}");
        return problems;
    }

    private static async Task VisitAsync(IPage page, string path)
    {
        var response = await page.GotoAsync(path);
        Assert.NotNull(response);
        // Interactive pages: let the circuit start and render (MudBlazor writes its styles then).
        if (await page.Locator("[data-testid=interactive]").CountAsync() > 0 || await page.Locator("script[src*='blazor.web']").CountAsync() > 0)
        {
            try { await WaitForCircuitAsync(page); } catch (TimeoutException) { } // static account pages have no circuit
        }
        await page.WaitForTimeoutAsync(300);
    }

    [Fact]
    public async Task CspCrawl_EveryPage_SignedOutAndSignedIn_NoViolations()
    {
        var page = await fixture.NewPageAsync();
        // short waits for a circuit that static pages never start; a page load itself may take longer on a busy machine
        page.Context.SetDefaultTimeout(5_000);
        page.Context.SetDefaultNavigationTimeout(30_000);
        var problems = await WatchAsync(page);
        string[] signedOut =
        [
            "", "Account/Login", "Account/Register", "Account/ForgotPassword", "Account/ForgotPasswordConfirmation",
            "Account/ResendEmailConfirmation", "Account/ResetPasswordConfirmation", "Account/InvalidPasswordReset",
            "Account/Lockout", "Account/AccessDenied", "nope",
        ];
        foreach (var path in signedOut) await VisitAsync(page, path);

        page.Context.SetDefaultTimeout(30_000);
        await RegisterAsync(page, $"csp-{Guid.NewGuid():N}@example.test");
        // A generation, so that previews (data: URLs), results and thumbnails are on the pages.
        await page.GotoAsync("generate");
        await WaitForCircuitAsync(page);
        await page.Locator("#prompt").FillAsync("a red circle on a blue background");
        await page.GetByTestId("generate").ClickAsync();
        var card = page.Locator("[data-testid=results] [data-testid=image-card]").First;
        await card.WaitForAsync(new() { Timeout = 60_000 });
        var imageId = await card.GetAttributeAsync("data-image-id");

        page.Context.SetDefaultTimeout(5_000);
        string[] signedIn =
        [
            "", "generate", "gallery", $"gallery/{imageId}", "account/tokens", "Account/Manage", "Account/Manage/Email",
            "Account/Manage/ChangePassword", "Account/Manage/TwoFactorAuthentication", "Account/Manage/EnableAuthenticator",
            "Account/Manage/Passkeys", "Account/Manage/PersonalData", "Account/Manage/DeletePersonalData", "nope",
        ];
        foreach (var path in signedIn) await VisitAsync(page, path);

        Assert.True(problems.IsEmpty, string.Join("\n", problems));
    }

    [Fact]
    public async Task UnknownUrl_PublishedApp_RendersTheNotFoundPage()
    {
        var page = await fixture.NewPageAsync();
        var response = await page.GotoAsync("admin/nope");

        Assert.Equal(404, response!.Status);
        await Assertions.Expect(page.GetByText("does not exist")).ToBeVisibleAsync();
        await Assertions.Expect(page.GetByText("DiffusionGallery").First).ToBeVisibleAsync();
    }

    [Fact]
    public async Task SignOutInOneBrowser_OtherBrowsersOpenGeneratePage_GoesToSignInWithin30Seconds()
    {
        var email = $"elsewhere-{Guid.NewGuid():N}@example.test";
        var first = await fixture.NewPageAsync();
        await RegisterAsync(first, email);
        var second = await fixture.NewPageAsync(); // another browser context: its own cookies
        await SignInAsync(second, email);
        await second.GotoAsync("generate");
        await WaitForCircuitAsync(second);

        await first.GotoAsync("");
        await WaitForCircuitAsync(first);
        var clock = Stopwatch.StartNew();
        await first.GetByRole(AriaRole.Button, new() { Name = "Sign out" }).ClickAsync();

        await second.WaitForURLAsync(url => url.Contains("Account/Login", StringComparison.Ordinal), new() { Timeout = 30_000 });
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(30), $"took {clock.Elapsed}");
        // And the old cookie no longer opens the page.
        await second.GotoAsync("generate");
        await second.WaitForURLAsync(url => url.Contains("Account/Login", StringComparison.Ordinal));
    }

    [Fact]
    public async Task ForgotPassword_InTheBrowser_ResetFromTheMailedLink_SignsInWithTheNewPassword()
    {
        const string newPassword = "a password reset in the browser";
        var email = $"forgot-{Guid.NewGuid():N}@example.test";
        await RegisterAsync(await fixture.NewPageAsync(), email);

        var page = await fixture.NewPageAsync();
        await page.GotoAsync("Account/Login");
        await page.GetByRole(AriaRole.Link, new() { Name = "Forgot your password?" }).ClickAsync();
        // The link is followed by Blazor's enhanced navigation, which swaps the page in after a fetch: until the new
        // form is there, "#Input.Email" and the submit button are still the sign-in form's (typing into those was
        // what made an earlier version of this test fail now and then).
        var resetButton = page.GetByRole(AriaRole.Button, new() { Name = "Reset password" });
        await resetButton.WaitForAsync();
        await page.FillAsync("form:has(button:text-is('Reset password')) #Input\\.Email", email);
        var clock = Stopwatch.StartNew();
        await resetButton.ClickAsync();
        await page.WaitForURLAsync(url => url.Contains("ForgotPasswordConfirmation", StringComparison.Ordinal), new() { Timeout = 15_000 });
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(15), $"the confirmation took {clock.Elapsed}");

        // No SMTP host is configured: the message is an .eml file under the app's data folder.
        var link = await WaitForMailedLinkAsync(email, "ResetPassword", TimeSpan.FromSeconds(30));
        await page.GotoAsync(link);
        await page.FillAsync("#Input\\.Email", email);
        await page.FillAsync("#Input\\.Password", newPassword);
        await page.FillAsync("#Input\\.ConfirmPassword", newPassword);
        await page.ClickAsync("button[type=submit]");
        await page.WaitForURLAsync(url => url.Contains("ResetPasswordConfirmation", StringComparison.Ordinal));

        await page.GotoAsync("Account/Login");
        await page.FillAsync("#Input\\.Email", email);
        await page.FillAsync("#Input\\.Password", newPassword);
        await page.ClickAsync("button[type=submit]");
        await page.WaitForURLAsync(url => !url.Contains("Login", StringComparison.Ordinal));
        await Assertions.Expect(page.GetByTestId("account-link")).ToContainTextAsync(email);
    }

    /// <summary>The first link containing <paramref name="pathPart"/> in an .eml written for <paramref name="to"/>.</summary>
    private async Task<string> WaitForMailedLinkAsync(string to, string pathPart, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            if (Directory.Exists(fixture.App.MailDir))
            {
                foreach (var file in Directory.EnumerateFiles(fixture.App.MailDir, "*.eml"))
                {
                    var text = DecodeQuotedPrintable(await File.ReadAllTextAsync(file));
                    if (!text.Contains(to, StringComparison.Ordinal)) continue;
                    var match = Regex.Match(text, $@"https?://[^\s""<>]*{pathPart}[^\s""<>]*");
                    if (match.Success) return match.Value;
                }
            }
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"no mail with a {pathPart} link for {to}");
            await Task.Delay(200);
        }
    }

    /// <summary>Enough of RFC 2045 quoted-printable for links: soft line breaks and =XX escapes.</summary>
    private static string DecodeQuotedPrintable(string text) =>
        Regex.Replace(text.Replace("=\r\n", "", StringComparison.Ordinal).Replace("=\n", "", StringComparison.Ordinal), "=([0-9A-F]{2})",
            m => ((char)int.Parse(m.Groups[1].Value, NumberStyles.HexNumber, CultureInfo.InvariantCulture)).ToString());
}
