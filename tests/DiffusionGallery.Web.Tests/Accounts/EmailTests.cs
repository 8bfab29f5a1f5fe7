using System.ComponentModel.DataAnnotations;
using System.Diagnostics;
using System.Net;
using System.Text.RegularExpressions;
using DiffusionGallery.Web.Accounts.Email;
using DiffusionGallery.Web.Tests.Integration;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.EntityFrameworkCore;
using MimeKit;

namespace DiffusionGallery.Web.Tests.Accounts;

public sealed partial class EmailTests
{
    private const string NewPassword = "a freshly reset passphrase";
    private static readonly TimeSpan MailTimeout = TimeSpan.FromSeconds(30);

    private static HttpClient NewClient(GalleryAppFactory app) => app.CreateClient(new WebApplicationFactoryClientOptions { AllowAutoRedirect = false, HandleCookies = true });

    private static Task<HttpResponseMessage> RegisterAsync(HttpClient client, string email) =>
        GalleryAppFactory.PostFormAsync(client, "/Account/Register", new()
        {
            ["Input.Email"] = email, ["Input.Password"] = GalleryAppFactory.Password, ["Input.ConfirmPassword"] = GalleryAppFactory.Password,
        });

    private static Task<HttpResponseMessage> LoginAsync(HttpClient client, string email, string password) =>
        GalleryAppFactory.PostFormAsync(client, "/Account/Login", new() { ["Input.Email"] = email, ["Input.Password"] = password });

    /// <summary>The link in the text part, as a path and query of the app.</summary>
    private static string LinkIn(MimeMessage message)
    {
        var match = LinkPattern().Match(message.TextBody ?? "");
        Assert.True(match.Success, "no link in: " + message.TextBody);
        var link = new Uri(match.Value);
        Assert.Contains(link.AbsolutePath, message.HtmlBody, StringComparison.Ordinal); // the HTML part has it too
        return link.PathAndQuery;
    }

    [GeneratedRegex(@"https?://\S+")]
    private static partial Regex LinkPattern();

    [Fact]
    public async Task RealSmtp_ConfirmThenForgotPassword_ResetFromTheMailedLink_NewPasswordSignsIn()
    {
        await using var smtp = await LoopbackSmtpServer.StartAsync();
        await using var app = new GalleryAppFactory();
        app.Settings["Email:Host"] = "127.0.0.1";
        app.Settings["Email:Port"] = smtp.Port.ToString(System.Globalization.CultureInfo.InvariantCulture);
        app.Settings["Email:Security"] = "None";
        app.Settings["Email:Sender"] = "DiffusionGallery <gallery@example.test>";
        var email = $"reset-{Guid.NewGuid():N}@example.test";
        var client = NewClient(app);

        Assert.Equal(HttpStatusCode.Redirect, (await RegisterAsync(client, email)).StatusCode);
        var confirmation = await smtp.WaitForMessageAsync(email, "Confirm", MailTimeout);
        Assert.Equal("gallery@example.test", confirmation.From.Mailboxes.Single().Address);
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync(LinkIn(confirmation), TestContext.Current.CancellationToken)).StatusCode);
        await using (var db = app.CreateDbContext()) Assert.True((await db.Users.SingleAsync(u => u.Email == email, TestContext.Current.CancellationToken)).EmailConfirmed);

        var anonymous = NewClient(app);
        var clock = Stopwatch.StartNew();
        var forgot = await GalleryAppFactory.PostFormAsync(anonymous, "/Account/ForgotPassword", new() { ["Input.Email"] = email });
        Assert.Equal(HttpStatusCode.Redirect, forgot.StatusCode);
        Assert.Contains("ForgotPasswordConfirmation", forgot.Headers.Location!.OriginalString);
        var reset = await smtp.WaitForMessageAsync(email, "Reset", MailTimeout);
        clock.Stop();

        var resetPath = LinkIn(reset);
        Assert.StartsWith("/Account/ResetPassword?code=", resetPath);
        var done = await GalleryAppFactory.PostFormAsync(anonymous, resetPath, new()
        {
            ["Input.Email"] = email, ["Input.Password"] = NewPassword, ["Input.ConfirmPassword"] = NewPassword,
        });
        Assert.Equal(HttpStatusCode.Redirect, done.StatusCode);
        Assert.Contains("ResetPasswordConfirmation", done.Headers.Location!.OriginalString);

        Assert.Equal(HttpStatusCode.OK, (await LoginAsync(NewClient(app), email, GalleryAppFactory.Password)).StatusCode); // the form again: refused
        var signIn = await LoginAsync(NewClient(app), email, NewPassword);
        Assert.Equal(HttpStatusCode.Redirect, signIn.StatusCode);
        Assert.DoesNotContain("Login", signIn.Headers.Location!.OriginalString);
        // The same link does not work twice.
        var again = await GalleryAppFactory.PostFormAsync(NewClient(app), resetPath, new()
        {
            ["Input.Email"] = email, ["Input.Password"] = "yet another passphrase", ["Input.ConfirmPassword"] = "yet another passphrase",
        });
        Assert.Equal(HttpStatusCode.OK, again.StatusCode);
        Assert.Contains("Invalid token", await again.Content.ReadAsStringAsync(TestContext.Current.CancellationToken));
    }

    [Fact]
    public async Task SmtpServerDown_ForgotPasswordStillAnswersAtOnce()
    {
        await using var app = new GalleryAppFactory();
        app.Settings["Email:Host"] = "127.0.0.1";
        app.Settings["Email:Port"] = LoopbackSmtpServer.FreePort().ToString(System.Globalization.CultureInfo.InvariantCulture); // nobody listens
        app.Settings["Email:Security"] = "None";
        var (_, _) = await app.RegisterAsync($"down-{Guid.NewGuid():N}@example.test");
        var email = $"down2-{Guid.NewGuid():N}@example.test";
        await app.RegisterAsync(email);

        var clock = Stopwatch.StartNew();
        var forgot = await GalleryAppFactory.PostFormAsync(NewClient(app), "/Account/ForgotPassword", new() { ["Input.Email"] = email });

        Assert.Equal(HttpStatusCode.Redirect, forgot.StatusCode);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(10), $"took {clock.Elapsed}");
    }

    [Fact]
    public async Task NoSmtpHost_EachMessageWrittenAsEmlUnderTheDataFolder()
    {
        await using var app = new GalleryAppFactory();
        var email = $"eml-{Guid.NewGuid():N}@example.test";
        await app.RegisterAsync(email);

        MimeMessage? message = null;
        var deadline = DateTime.UtcNow + MailTimeout;
        while (message is null && DateTime.UtcNow < deadline)
        {
            var file = Directory.Exists(app.MailPath) ? Directory.EnumerateFiles(app.MailPath, "*.eml").FirstOrDefault() : null;
            if (file is not null) message = await MimeMessage.LoadAsync(file, TestContext.Current.CancellationToken);
            else await Task.Delay(100, TestContext.Current.CancellationToken);
        }

        Assert.NotNull(message);
        Assert.Equal(email, message.To.Mailboxes.Single().Address);
        Assert.Contains("/Account/ConfirmEmail?userId=", LinkIn(message));
    }

    [Theory]
    [InlineData("not an address", null, null, "Email:Sender")]
    [InlineData("DiffusionGallery <noreply@example.com>", "smtp-user", null, "Email:Password")]
    public void InvalidEmailOptions_AreRefused(string sender, string? user, string? password, string named)
    {
        var options = new EmailOptions { Host = "smtp.example.com", Sender = sender, User = user, Password = password };
        var results = new List<ValidationResult>();
        Assert.False(Validator.TryValidateObject(options, new ValidationContext(options), results, validateAllProperties: true));
        Assert.Contains(results, r => r.ErrorMessage!.Contains(named, StringComparison.Ordinal));
    }

    [Fact]
    public async Task InvalidEmailSection_FailsAtStartup()
    {
        await using var app = new GalleryAppFactory();
        app.Settings["Email:Sender"] = "nobody";
        var ex = Assert.ThrowsAny<Exception>(() => app.Server);
        Assert.Contains("Email:Sender", ex.ToString());
    }
}
