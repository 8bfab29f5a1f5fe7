using System.Security.Claims;
using Bunit;
using Bunit.TestDoubles;
using DiffusionGallery.Web.Admin;
using DiffusionGallery.Web.Components.Pages.Admin;
using DiffusionGallery.Web.Tests.Components;
using System.Net.Http.Json;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace DiffusionGallery.Web.Tests.Admin;

/// <summary>The admin pages rendered with bUnit over the real app's services (SQLite, Identity), signed in as its Admin.</summary>
public sealed class AdminPagesTests(AdminAppFixture fixture) : MudTestContext, IClassFixture<AdminAppFixture>
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(20);
    private static CancellationToken Ct => Xunit.TestContext.Current.CancellationToken;
    private BunitAuthorizationContext? _auth;

    protected override void ConfigureServices(IServiceCollection services)
    {
        var app = fixture.App.Services;
        services.AddSingleton(app.GetRequiredService<AdminUserService>());
        services.AddSingleton(app.GetRequiredService<AuditLog>());
        services.AddSingleton(app.GetRequiredService<UsageDashboard>());
        services.AddHttpContextAccessor();
        services.AddScoped<AdminCircuitActor>();
        _auth = AddAuthorization();
    }

    private async Task SignInAsAdminAsync()
    {
        await using var db = fixture.App.CreateDbContext();
        var email = (await db.Users.SingleAsync(u => u.Id == fixture.AdminId, Ct)).Email!;
        _auth!.SetAuthorized(email);
        _auth!.SetRoles("Admin");
        _auth!.SetClaims(new Claim(ClaimTypes.NameIdentifier, fixture.AdminId), new Claim(ClaimTypes.Email, email));
    }

    private static AngleSharp.Dom.IElement Input(IRenderedComponent<AdminUsers> page, string testId)
    {
        var marked = page.Find($"[data-testid={testId}]");
        return marked.LocalName is "input" ? marked : marked.QuerySelector("input")!;
    }

    private static string FieldText(IRenderedComponent<AdminUsers> page, string testId) =>
        page.FindAll(".mud-input-control").Single(c => c.QuerySelector($"[data-testid={testId}]") is not null).TextContent;

    private IRenderedComponent<AdminUsers> OpenEditor(TestUser user)
    {
        var page = Render<AdminUsers>();
        page.WaitForAssertion(() => Assert.Contains(user.Email, page.Markup), Patience);
        page.FindAll("tr").Single(r => r.TextContent.Contains(user.Email, StringComparison.Ordinal)).QuerySelector("[data-testid=user-edit]")!.Click();
        page.WaitForAssertion(() => page.Find("[data-testid=quota-editor]"), Patience);
        return page;
    }

    [Fact]
    public async Task QuotaEditor_NegativeImagesPerDay_IsRefusedAtTheField_NothingStoredOrAudited()
    {
        var user = await fixture.RegisterUserAsync("negquota");
        await SignInAsAdminAsync();
        var page = OpenEditor(user);
        Assert.Contains("0 = no limit", page.Find("[data-testid=quota-legend]").TextContent);
        Assert.Contains("0 = no limit", FieldText(page, "quota-images"));

        Input(page, "quota-images").Change("-3");
        page.Find("[data-testid=quota-save]").Click();

        // The typed value stays (it used to become 0 = no limit) and the service's message sits under the field.
        page.WaitForAssertion(() => Assert.Contains("Images per day must be between 0 (no limit) and 1000000.", FieldText(page, "quota-images")), Patience);
        Assert.Equal("-3", Input(page, "quota-images").GetAttribute("value"));
        Assert.Single(page.FindAll("[data-testid=quota-editor]")); // still open: nothing was saved
        await using (var db = fixture.App.CreateDbContext())
        {
            Assert.Null(await db.QuotaPolicies.FindAsync([user.Id], Ct));
            Assert.False(await db.Set<AuditEntry>().AnyAsync(a => a.TargetId == user.Id && a.Action == "quota.update", Ct));
        }

        // Editing the field clears its message; a valid value is saved (and audited) as before.
        Input(page, "quota-images").Change("5");
        page.WaitForAssertion(() => Assert.DoesNotContain("must be between", FieldText(page, "quota-images")), Patience);
        page.Find("[data-testid=quota-save]").Click();
        page.WaitForAssertion(() => Assert.Empty(page.FindAll("[data-testid=quota-editor]")), Patience);
        await using var check = fixture.App.CreateDbContext();
        Assert.Equal(5, (await check.QuotaPolicies.FindAsync([user.Id], Ct))!.ImagesPerDay);
        Assert.Contains("imagesPerDay=5", (await check.Set<AuditEntry>().SingleAsync(a => a.TargetId == user.Id && a.Action == "quota.update", Ct)).Details);
    }

    [Fact]
    public async Task AuditLog_TargetColumn_ShowsTheUsersEmail_WithTheIdInTheTooltip_AndSearchFindsByEmail()
    {
        var user = await fixture.RegisterUserAsync("audited");
        var disabled = await fixture.AdminToken.PostAsync($"/api/admin/users/{user.Id}/disable", null, Ct);
        Assert.Equal(System.Net.HttpStatusCode.OK, disabled.StatusCode);
        await SignInAsAdminAsync();

        var page = Render<AdminAudit>();

        page.WaitForAssertion(() => Assert.Contains(page.FindAll("[data-testid=audit-target]"), c => c.TextContent.Contains(user.Email, StringComparison.Ordinal)), Patience);
        var target = page.FindAll("[data-testid=audit-target]").First(c => c.TextContent.Contains(user.Email, StringComparison.Ordinal));
        Assert.DoesNotContain(user.Id, target.TextContent); // no raw GUID to read ...
        Assert.Contains(user.Id, target.QuerySelector("[title]")!.GetAttribute("title")); // ... but the id is at hand

        // The REST view carries the e-mail too, and searching by it finds the entry.
        var json = await fixture.AdminToken.GetFromJsonAsync<System.Text.Json.JsonElement>($"/api/admin/audit?search={Uri.EscapeDataString(user.Email)}", Ct);
        var entry = Assert.Single(json.GetProperty("items").EnumerateArray(), e => e.GetProperty("action").GetString() == "user.disable");
        Assert.Equal(user.Id, entry.GetProperty("targetId").GetString());
        Assert.Equal(user.Email, entry.GetProperty("targetEmail").GetString());
    }
}
