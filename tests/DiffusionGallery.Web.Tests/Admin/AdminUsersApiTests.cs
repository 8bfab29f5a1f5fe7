using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using DiffusionGallery.Web.Admin;
using DiffusionGallery.Web.Data.Entities;
using DiffusionGallery.Web.Quotas;
using DiffusionGallery.Web.Tests.Integration;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace DiffusionGallery.Web.Tests.Admin;

public sealed class AdminUsersApiTests(AdminAppFixture fixture) : IClassFixture<AdminAppFixture>
{
    private HttpClient Admin => fixture.AdminToken;

    [Fact]
    public async Task ListUsers_SearchAndPaging_ReturnsTheContractFieldsWithUsageToday()
    {
        var user = await fixture.RegisterUserAsync("listed");
        await AddUsageAsync(user.Id, images: 3, gpuSeconds: 1.5);

        var json = await Admin.GetFromJsonAsync<JsonElement>($"/api/admin/users?search={Uri.EscapeDataString(user.Email[..20])}&page=1&pageSize=10");
        Assert.Equal(1, json.GetProperty("total").GetInt32());
        var item = Assert.Single(json.GetProperty("items").EnumerateArray());
        foreach (var field in new[] { "id", "email", "handle", "roles", "disabled", "imagesToday", "gpuSecondsToday", "quota" })
            Assert.True(item.TryGetProperty(field, out _), $"missing {field}");
        Assert.Equal(user.Id, item.GetProperty("id").GetString());
        Assert.Equal(3, item.GetProperty("imagesToday").GetInt32());
        Assert.Equal(1.5, item.GetProperty("gpuSecondsToday").GetDouble(), 3);
        Assert.Equal("User", Assert.Single(item.GetProperty("roles").EnumerateArray()).GetString());
        Assert.False(item.GetProperty("disabled").GetBoolean());

        var page = await Admin.GetFromJsonAsync<JsonElement>("/api/admin/users?page=1&pageSize=1&sort=Email");
        Assert.Single(page.GetProperty("items").EnumerateArray());
        Assert.True(page.GetProperty("total").GetInt32() >= 2);
    }

    [Fact]
    public async Task PutQuota_StoresTheOverride_NullMeansDefault_ZeroMeansUnlimited_Audited()
    {
        var user = await fixture.RegisterUserAsync("quota");
        var response = await Admin.PutAsJsonAsync($"/api/admin/users/{user.Id}/quota", new
        {
            imagesPerDay = 7, gpuSecondsPerDay = 0, maxQueuedJobs = (int?)null, maxSteps = 30, maxPixels = 65536, maxBatch = 2,
            allowedModels = new[] { "tiny-shapes" }, weight = 2.5,
        });
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var dto = (await response.Content.ReadFromJsonAsync<AdminUserDto>(GalleryAppFactory.Json))!;
        Assert.Equal(7, dto.Quota.ImagesPerDay);
        Assert.Equal(30, dto.Quota.MaxSteps);
        Assert.Equal(2.5, dto.Quota.Weight);

        var effective = await fixture.App.Services.GetRequiredService<EffectiveQuotaResolver>().GetAsync(user.Id);
        Assert.Equal(7, effective.ImagesPerDay);
        Assert.Null(effective.GpuSecondsPerDay); // 0 = unlimited
        Assert.Equal(65536, effective.MaxPixels);
        Assert.True(effective.AllowsModel("tiny-shapes"));
        Assert.False(effective.AllowsModel("other-model"));

        // An all-null body removes the override: back to the defaults.
        Assert.Equal(HttpStatusCode.OK, (await Admin.PutAsJsonAsync($"/api/admin/users/{user.Id}/quota", new { })).StatusCode);
        await using var db = fixture.App.CreateDbContext();
        Assert.Null(await db.QuotaPolicies.FindAsync(user.Id));
        var audit = await db.Set<AuditEntry>().Where(a => a.TargetId == user.Id && a.Action == "quota.update").OrderBy(a => a.Id).ToListAsync();
        Assert.Equal(2, audit.Count);
        Assert.Contains("imagesPerDay=7", audit[0].Details);
        Assert.Equal(fixture.AdminId, audit[0].ActorId);
        Assert.Equal("override removed", audit[1].Details);
    }

    [Fact]
    public async Task PutQuota_BadInput_ProblemJsonNamesTheField_NothingStored()
    {
        var user = await fixture.RegisterUserAsync("badquota");
        var negative = await Admin.PutAsJsonAsync($"/api/admin/users/{user.Id}/quota", new { imagesPerDay = -1, weight = 0 });
        Assert.Equal(HttpStatusCode.BadRequest, negative.StatusCode);
        Assert.Equal("application/problem+json", negative.Content.Headers.ContentType?.MediaType);
        var problem = await negative.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Contains("between 0", problem.GetProperty("errors").GetProperty("imagesPerDay")[0].GetString());
        Assert.True(problem.GetProperty("errors").TryGetProperty("weight", out _));

        var malformed = await Admin.PutAsync($"/api/admin/users/{user.Id}/quota", new StringContent("{\"imagesPerDay\": \"many\"}", Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.BadRequest, malformed.StatusCode);
        Assert.Equal("application/problem+json", malformed.Content.Headers.ContentType?.MediaType);
        Assert.True((await malformed.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("errors").TryGetProperty("imagesPerDay", out _));

        var unknownUser = await Admin.PutAsJsonAsync("/api/admin/users/no-such-user/quota", new { imagesPerDay = 1 });
        Assert.Equal(HttpStatusCode.NotFound, unknownUser.StatusCode);

        await using var db = fixture.App.CreateDbContext();
        Assert.Null(await db.QuotaPolicies.FindAsync(user.Id));
    }

    [Fact]
    public async Task PutRoles_UnknownRole400_PromoteAndDemote_LastAdminNeverRemoved()
    {
        var user = await fixture.RegisterUserAsync("roles");
        var unknown = await Admin.PutAsJsonAsync($"/api/admin/users/{user.Id}/roles", new { roles = new[] { "Root" } });
        Assert.Equal(HttpStatusCode.BadRequest, unknown.StatusCode);
        Assert.Contains("Root", await unknown.Content.ReadAsStringAsync());
        var empty = await Admin.PutAsJsonAsync($"/api/admin/users/{user.Id}/roles", new { roles = Array.Empty<string>() });
        Assert.Equal(HttpStatusCode.BadRequest, empty.StatusCode);

        // Trusted comes from the Quotas:Roles layer in appsettings.json and is created on first use.
        var trusted = await Admin.PutAsJsonAsync($"/api/admin/users/{user.Id}/roles", new { roles = new[] { "User", "Trusted" } });
        Assert.Equal(HttpStatusCode.OK, trusted.StatusCode);
        Assert.True(await fixture.App.IsInRoleAsync(user.Id, "Trusted"));
        Assert.Equal(2, (await fixture.App.Services.GetRequiredService<EffectiveQuotaResolver>().GetAsync(user.Id)).Weight); // the role layer's weight

        // Only one admin of this app can be demoted as long as another one remains.
        var admins = await AdminIdsAsync();
        foreach (var other in admins.Where(id => id != fixture.AdminId))
            await Admin.PutAsJsonAsync($"/api/admin/users/{other}/roles", new { roles = new[] { "User" } });
        var selfDemote = await Admin.PutAsJsonAsync($"/api/admin/users/{fixture.AdminId}/roles", new { roles = new[] { "User" } });
        Assert.Equal(HttpStatusCode.Conflict, selfDemote.StatusCode);
        Assert.Contains("last admin", await selfDemote.Content.ReadAsStringAsync());
        Assert.True(await fixture.App.IsInRoleAsync(fixture.AdminId, "Admin"));
        var disableSelf = await Admin.PostAsync($"/api/admin/users/{fixture.AdminId}/disable", null);
        Assert.Equal(HttpStatusCode.Conflict, disableSelf.StatusCode);

        Assert.Equal(HttpStatusCode.OK, (await Admin.PutAsJsonAsync($"/api/admin/users/{user.Id}/roles", new { roles = new[] { "Admin" } })).StatusCode);
        Assert.True(await fixture.App.IsInRoleAsync(user.Id, "Admin"));
        Assert.False(await fixture.App.IsInRoleAsync(user.Id, "Trusted"));
        Assert.Equal(HttpStatusCode.OK, (await Admin.PutAsJsonAsync($"/api/admin/users/{user.Id}/roles", new { roles = new[] { "User" } })).StatusCode);
    }

    [Fact]
    public async Task ConcurrentDemotions_OfTheLastTwoAdmins_LeaveOneAdmin()
    {
        var second = await fixture.RegisterUserAsync("race-admin");
        foreach (var other in (await AdminIdsAsync()).Where(id => id != fixture.AdminId))
            await Admin.PutAsJsonAsync($"/api/admin/users/{other}/roles", new { roles = new[] { "User" } });
        Assert.Equal(HttpStatusCode.OK, (await Admin.PutAsJsonAsync($"/api/admin/users/{second.Id}/roles", new { roles = new[] { "Admin" } })).StatusCode);

        var demotions = await Task.WhenAll(
            Admin.PutAsJsonAsync($"/api/admin/users/{second.Id}/roles", new { roles = new[] { "User" } }),
            Admin.PutAsJsonAsync($"/api/admin/users/{fixture.AdminId}/roles", new { roles = new[] { "User" } }));
        // Both at once: one wins, the other is the last admin's (409). If the self-demotion finished before the other
        // request began, that one comes from an actor who is no admin any more (403) — never both demoted.
        Assert.Single(demotions, r => r.StatusCode == HttpStatusCode.OK);
        var loser = Assert.Single(demotions, r => r.StatusCode != HttpStatusCode.OK).StatusCode;
        Assert.Single(await AdminIdsAsync());
        if (loser == HttpStatusCode.Forbidden) Assert.False(await fixture.App.IsInRoleAsync(fixture.AdminId, "Admin"));
        else Assert.Equal(HttpStatusCode.Conflict, loser);
        if (!await fixture.App.IsInRoleAsync(fixture.AdminId, "Admin"))
        {
            // the second admin won: give the fixture's admin its role back for the other tests
            using var restore = await fixture.SignInAsync(second.Email);
            Assert.Equal(HttpStatusCode.OK, (await restore.PutAsJsonAsync($"/api/admin/users/{fixture.AdminId}/roles", new { roles = new[] { "Admin" } })).StatusCode);
        }
    }

    [Fact]
    public async Task AdminTakingAwayTheirOwnRole_WhileAnotherRemains_GetsTheResult_ThenIsNoAdmin()
    {
        var successor = await fixture.RegisterUserAsync("successor");
        Assert.Equal(HttpStatusCode.OK, (await Admin.PutAsJsonAsync($"/api/admin/users/{successor.Id}/roles", new { roles = new[] { "Admin" } })).StatusCode);

        var response = await Admin.PutAsJsonAsync($"/api/admin/users/{fixture.AdminId}/roles", new { roles = new[] { "User" } });

        Assert.Equal(HttpStatusCode.OK, response.StatusCode); // the change was allowed when it began: its result, not a 403
        var dto = (await response.Content.ReadFromJsonAsync<AdminUserDto>(GalleryAppFactory.Json))!;
        Assert.Equal(["User"], dto.Roles);
        Assert.Equal(HttpStatusCode.Forbidden, (await Admin.GetAsync("/api/admin/users")).StatusCode);

        using var restore = await fixture.SignInAsync(successor.Email); // give the fixture's admin its role back
        Assert.Equal(HttpStatusCode.OK, (await restore.PutAsJsonAsync($"/api/admin/users/{fixture.AdminId}/roles", new { roles = new[] { "Admin" } })).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await Admin.PutAsJsonAsync($"/api/admin/users/{successor.Id}/roles", new { roles = new[] { "User" } })).StatusCode);
    }

    [Fact]
    public async Task TakeDownImage_SetsTakenDownAt_KeepsTheRow_Audited_UnknownIs404()
    {
        var user = await fixture.RegisterUserAsync("takedown");
        var imageId = await AddImageAsync(user.Id);

        var response = await Admin.DeleteAsync($"/api/admin/images/{imageId}");
        Assert.Equal(HttpStatusCode.NoContent, response.StatusCode);
        await using (var db = fixture.App.CreateDbContext())
        {
            var image = await db.GeneratedImages.SingleAsync(i => i.Id == imageId);
            Assert.NotNull(image.TakenDownAt);
            var entry = await db.Set<AuditEntry>().SingleAsync(a => a.Action == "image.takedown" && a.TargetId == imageId.ToString());
            Assert.Contains(user.Id, entry.Details);
        }
        Assert.Equal(HttpStatusCode.NoContent, (await Admin.DeleteAsync($"/api/admin/images/{imageId}")).StatusCode); // idempotent
        Assert.Equal(HttpStatusCode.NotFound, (await Admin.DeleteAsync($"/api/admin/images/{Guid.NewGuid()}")).StatusCode);

        var second = await AddImageAsync(user.Id);
        var all = await Admin.DeleteAsync($"/api/admin/users/{user.Id}/images");
        Assert.Equal(1, (await all.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("takenDown").GetInt32());
        await using var check = fixture.App.CreateDbContext();
        Assert.NotNull((await check.GeneratedImages.SingleAsync(i => i.Id == second)).TakenDownAt);
    }

    [Fact]
    public async Task UsageCsv_IsTheLedger_WithFormulaCellsDefused()
    {
        var user = await fixture.RegisterUserAsync("csv");
        var jobId = await AddUsageAsync(user.Id, images: 2, gpuSeconds: 0.75, provider: "=HYPERLINK(\"x\")");

        var response = await Admin.GetAsync("/api/admin/usage.csv");
        Assert.Equal("text/csv", response.Content.Headers.ContentType?.MediaType);
        var lines = (await response.Content.ReadAsStringAsync()).Split("\r\n", StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal("id,createdAt,kind,userId,email,jobId,model,images,gpuSeconds,executionProvider", lines[0]);
        Assert.Equal(3, lines.Count(l => l.Contains(jobId.ToString()))); // reservation, charge, refund
        var row = Assert.Single(lines, l => l.Contains(jobId.ToString()) && l.Contains(",Charge,"));
        Assert.Contains($",Charge,{user.Id},{user.Email},{jobId},tiny-shapes,2,0.75,", row);
        Assert.EndsWith(",\"'=HYPERLINK(\"\"x\"\")\"", row);
    }

    [Fact]
    public async Task Audit_ListsAdminActionsNewestFirst_AndExportsCsv()
    {
        var user = await fixture.RegisterUserAsync("audited");
        await Admin.PostAsync($"/api/admin/users/{user.Id}/disable", null);
        await Admin.PostAsync($"/api/admin/users/{user.Id}/enable", null);

        var page = await Admin.GetFromJsonAsync<JsonElement>($"/api/admin/audit?search={user.Id}&pageSize=10");
        var actions = page.GetProperty("items").EnumerateArray().Select(i => i.GetProperty("action").GetString()).Where(a => a!.StartsWith("user.")).ToList();
        Assert.Equal(["user.enable", "user.disable"], actions);
        var first = page.GetProperty("items")[0];
        Assert.Equal(fixture.AdminId, first.GetProperty("actorId").GetString());
        Assert.Equal("user", first.GetProperty("targetType").GetString());

        var csv = await Admin.GetStringAsync($"/api/admin/audit.csv?search={user.Id}");
        var lines = csv.Split("\r\n", StringSplitOptions.RemoveEmptyEntries);
        Assert.StartsWith("id,at,actorId,actorEmail,action,targetType,targetId,details,ipAddress,userAgent", lines[0]);
        Assert.Single(lines, l => l.Contains(",user.disable,"));
        Assert.Single(lines, l => l.Contains(",user.enable,"));
        Assert.Contains(lines, l => l.Contains(",account.sign-in,")); // the registration's sign-in is a security event
    }

    private async Task<List<string>> AdminIdsAsync()
    {
        await using var db = fixture.App.CreateDbContext();
        return await (from ur in db.UserRoles join r in db.Roles on ur.RoleId equals r.Id where r.Name == "Admin" select ur.UserId).ToListAsync();
    }

    private async Task<Guid> AddUsageAsync(string userId, int images, double gpuSeconds, string provider = "CPU")
    {
        await using var db = fixture.App.CreateDbContext();
        var job = new GenerationJob
        {
            Id = Guid.CreateVersion7(), OwnerId = userId, State = JobState.Succeeded, CreatedAt = DateTimeOffset.UtcNow, FinishedAt = DateTimeOffset.UtcNow,
            Settings = new GenerationSettings { Prompt = "a circle", Model = "tiny-shapes" },
        };
        db.GenerationJobs.Add(job);
        // As the worker leaves a finished job: its reservation (estimate), the charge (what ran) and the refund of the estimate.
        db.UsageEntries.Add(new UsageEntry { UserId = userId, JobId = job.Id, Kind = UsageKind.Reservation, Images = images, GpuSeconds = 0.2, CreatedAt = DateTimeOffset.UtcNow });
        db.UsageEntries.Add(new UsageEntry { UserId = userId, JobId = job.Id, Kind = UsageKind.Charge, Images = images, GpuSeconds = gpuSeconds, ExecutionProvider = provider, CreatedAt = DateTimeOffset.UtcNow });
        db.UsageEntries.Add(new UsageEntry { UserId = userId, JobId = job.Id, Kind = UsageKind.Refund, Images = 0, GpuSeconds = 0.2, CreatedAt = DateTimeOffset.UtcNow });
        await db.SaveChangesAsync();
        return job.Id;
    }

    private async Task<Guid> AddImageAsync(string userId)
    {
        await using var db = fixture.App.CreateDbContext();
        var image = new GeneratedImage { Id = Guid.CreateVersion7(), OwnerId = userId, ModelName = "tiny-shapes", FileHash = "00", CreatedAt = DateTimeOffset.UtcNow };
        db.GeneratedImages.Add(image);
        await db.SaveChangesAsync();
        return image.Id;
    }
}
