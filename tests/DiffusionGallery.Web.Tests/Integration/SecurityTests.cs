using System.Net;
using DiffusionGallery.Web.Data.Entities;
using DiffusionGallery.Web.Generation;
using DiffusionGallery.Web.Options;
using Microsoft.AspNetCore.SignalR;
using Microsoft.AspNetCore.SignalR.Client;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace DiffusionGallery.Web.Tests.Integration;

public sealed class SecurityTests(GenerationFlowTests.AppFixture fixture) : IClassFixture<GenerationFlowTests.AppFixture>
{
    private GalleryAppFactory App => fixture.App;

    [Fact]
    public async Task RawHubClient_FloodOfSubmits_OnlyTheQueueLimitIsCreated()
    {
        var (_, userId) = await App.RegisterAsync($"flood-{Guid.NewGuid():N}@example.test");
        await using var hub = await HubTestClient.ConnectAsync(App, await App.CreateTokenAsync(userId));
        var limit = App.Services.GetRequiredService<IOptions<GenerationOptions>>().Value.MaxQueuedJobsPerUser;

        // Long jobs, so that few of them can start (leave the queue) while the flood is being submitted.
        var attempts = Enumerable.Range(0, 20).Select(i => hub.SubmitAsync(new { prompt = "a circle", steps = 100, seed = i })).ToList();
        var refused = 0;
        foreach (var attempt in attempts)
        {
            try { await attempt; }
            catch (HubException ex) when (ex.Message.Contains("jobs waiting")) { refused++; }
        }

        await using var db = App.CreateDbContext();
        var created = await db.GenerationJobs.CountAsync(j => j.OwnerId == userId);
        // The queue limit, plus the jobs the worker had taken out of the queue (a shared run may take several at once).
        var started = await db.GenerationJobs.CountAsync(j => j.OwnerId == userId && j.Attempts > 0);
        Assert.InRange(created, 1, limit + started);
        Assert.InRange(started, 0, created - 1);
        Assert.Equal(20 - created, refused);

        foreach (var id in await db.GenerationJobs.Where(j => j.OwnerId == userId).Select(j => j.Id).ToListAsync())
            await hub.Connection.InvokeAsync<bool>("Cancel", id); // free the shared worker for the other tests
    }

    [Fact]
    public async Task TwoUsersConcurrently_EachHubSeesOnlyItsOwnJobs()
    {
        var (_, a) = await App.RegisterAsync($"iso-a-{Guid.NewGuid():N}@example.test");
        var (_, b) = await App.RegisterAsync($"iso-b-{Guid.NewGuid():N}@example.test");
        await using var hubA = await HubTestClient.ConnectAsync(App, await App.CreateTokenAsync(a));
        await using var hubB = await HubTestClient.ConnectAsync(App, await App.CreateTokenAsync(b));

        var jobA = hubA.SubmitAsync(new { prompt = "secret prompt of a", steps = 8, seed = 1 });
        var jobB = hubB.SubmitAsync(new { prompt = "a square", steps = 8, seed = 2 });
        var finalA = await hubA.WaitFinishedAsync(await jobA);
        var finalB = await hubB.WaitFinishedAsync(await jobB);

        Assert.Equal(JobState.Succeeded, finalA.State);
        Assert.Equal(JobState.Succeeded, finalB.State);
        Assert.All(hubB.Updates, u => Assert.Equal(finalB.JobId, u.JobId));
        Assert.All(hubA.Updates, u => Assert.Equal(finalA.JobId, u.JobId));
        Assert.DoesNotContain(hubB.Updates.SelectMany(u => u.ImageIds), id => finalA.ImageIds.Contains(id));
    }

    [Fact]
    public async Task Cancel_OtherUsersJobOverHub_ReturnsFalse()
    {
        var (_, a) = await App.RegisterAsync($"cx-a-{Guid.NewGuid():N}@example.test");
        var (_, b) = await App.RegisterAsync($"cx-b-{Guid.NewGuid():N}@example.test");
        await using var hubA = await HubTestClient.ConnectAsync(App, await App.CreateTokenAsync(a));
        await using var hubB = await HubTestClient.ConnectAsync(App, await App.CreateTokenAsync(b));
        var submitted = await hubA.SubmitAsync(new { prompt = "a circle", steps = 30, seed = 3 });

        Assert.False(await hubB.Connection.InvokeAsync<bool>("Cancel", submitted.JobId));
        Assert.Equal(JobState.Succeeded, (await hubA.WaitFinishedAsync(submitted)).State);
    }
}

public sealed class EmailConfirmationTests
{
    [Fact]
    public async Task ConfirmationOn_InProduction_NoLinkShown_AndUnconfirmedCannotSignIn()
    {
        await using var app = new GalleryAppFactory { Environment = "Production" };
        app.Settings["Auth:RequireConfirmedEmail"] = "true";
        var client = app.CreateClient(new Microsoft.AspNetCore.Mvc.Testing.WebApplicationFactoryClientOptions { AllowAutoRedirect = false, HandleCookies = true });
        var email = $"confirm-{Guid.NewGuid():N}@example.test";

        var register = await GalleryAppFactory.PostFormAsync(client, "/Account/Register", new()
        {
            ["Input.Email"] = email, ["Input.Password"] = GalleryAppFactory.Password, ["Input.ConfirmPassword"] = GalleryAppFactory.Password,
        });
        Assert.Equal(HttpStatusCode.Redirect, register.StatusCode);
        Assert.Contains("RegisterConfirmation", register.Headers.Location!.OriginalString);
        var confirmationPage = await client.GetStringAsync(register.Headers.Location);
        Assert.DoesNotContain("ConfirmEmail", confirmationPage);

        var login = await GalleryAppFactory.PostFormAsync(client, "/Account/Login", new() { ["Input.Email"] = email, ["Input.Password"] = GalleryAppFactory.Password });
        Assert.Equal(HttpStatusCode.OK, login.StatusCode); // the form again, with an error
        Assert.Contains("Invalid login attempt", await login.Content.ReadAsStringAsync());
        Assert.Equal(HttpStatusCode.Unauthorized, (await client.GetAsync("/api/images")).StatusCode);
    }
}

public sealed class AdminEmailsTests
{
    [Fact]
    public async Task ListedEmail_BecomesAdmin_EvenWhenNotFirst()
    {
        await using var app = new GalleryAppFactory();
        app.Settings["Auth:AdminEmails:0"] = "Boss@Example.Test";
        var (_, first) = await app.RegisterAsync("first@example.test");
        var (_, other) = await app.RegisterAsync("other@example.test");
        var (_, boss) = await app.RegisterAsync("boss@example.test");

        Assert.True(await app.IsInRoleAsync(first, DiffusionGallery.Web.Accounts.AccountRoles.Admin));
        Assert.False(await app.IsInRoleAsync(other, DiffusionGallery.Web.Accounts.AccountRoles.Admin));
        Assert.True(await app.IsInRoleAsync(other, DiffusionGallery.Web.Accounts.AccountRoles.User));
        Assert.True(await app.IsInRoleAsync(boss, DiffusionGallery.Web.Accounts.AccountRoles.Admin));
    }
}

public sealed class OptionsValidationTests
{
    [Fact]
    public async Task InvalidConfiguration_FailsAtStartupWithTheKeyNamed()
    {
        await using var app = new GalleryAppFactory();
        app.Settings["Inference:Provider"] = "Gpu";
        var ex = Assert.ThrowsAny<Exception>(() => app.Server);
        Assert.Contains("Provider must be Auto, Cuda or Cpu", ex.ToString());
    }

    [Fact]
    public async Task CudaSettings_ReachTheEngine_WhichRejectsABadOneAtStartup()
    {
        await using var app = new GalleryAppFactory();
        app.Settings["Inference:Cuda:CudnnConvAlgoSearch"] = "FASTEST";
        var ex = Assert.ThrowsAny<Exception>(() => app.Server);
        Assert.Contains("CudnnConvAlgoSearch must be EXHAUSTIVE, HEURISTIC or DEFAULT", ex.ToString());
    }
}
