using System.Collections.Concurrent;
using System.Security.Claims;
using DiffusionGallery.Web.Accounts;
using DiffusionGallery.Web.Data.Entities;
using DiffusionGallery.Web.Gallery;
using DiffusionGallery.Web.Lab;
using DiffusionGallery.Web.Tests.Integration;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace DiffusionGallery.Web.Tests.Lab;

/// <summary>Lab grids run as ordinary queued jobs of the user; results stream in and stay out of the gallery unless saved.</summary>
public sealed class LabJobRunnerTests(GenerationFlowTests.AppFixture fixture) : IClassFixture<GenerationFlowTests.AppFixture>
{
    private GalleryAppFactory App => fixture.App;

    [Fact]
    public async Task Grid_RunsEachCellAsAJobOfTheUser_StreamsResultsWithTimes_KeepsOnlySavedOnesInTheGallery()
    {
        var (_, userId) = await App.RegisterAsync($"lab-grid-{Guid.NewGuid():N}@example.test");
        var cells = new[] { (Sampler: Inference.Abstractions.SamplerKind.Euler, Steps: 2), (Sampler: Inference.Abstractions.SamplerKind.Ddim, Steps: 3), (Sampler: Inference.Abstractions.SamplerKind.EulerAncestral, Steps: 2) }
            .Select(c => new LabCell($"{c.Sampler}|{c.Steps}", new GenerationSettings { Prompt = "a green square", Sampler = c.Sampler, Steps = c.Steps, Seed = 3 }))
            .ToList();
        var streamed = new ConcurrentQueue<LabCellResult>();

        await using (var scope = App.Services.CreateAsyncScope())
        {
            var runner = RunnerFor(scope, userId);
            await runner.RunAsync(cells, result => { streamed.Enqueue(result); return Task.CompletedTask; }, TestContext.Current.CancellationToken);

            Assert.Equal(cells.Select(c => c.Key).Order(), streamed.Select(r => r.Key).Order());
            Assert.All(streamed, r =>
            {
                Assert.Equal(JobState.Succeeded, r.State);
                Assert.NotNull(r.ImageId);
                Assert.True(r.Elapsed > TimeSpan.Zero, $"{r.Key} has no time");
            });
            await using var db = App.CreateDbContext();
            var jobs = await db.GenerationJobs.Where(j => j.OwnerId == userId).ToListAsync(TestContext.Current.CancellationToken);
            Assert.Equal(3, jobs.Count); // through the submission path, as the user's own jobs, marked as the Lab's
            Assert.All(jobs, j => Assert.Equal("lab", j.Origin));
            Assert.Equal(3, await db.UsageEntries.Where(u => u.UserId == userId).Select(u => u.JobId).Distinct().CountAsync(TestContext.Current.CancellationToken)); // each charged to the quota ledger

            var kept = streamed.First().ImageId!.Value;
            runner.Save(kept);
            Assert.True(runner.IsSaved(kept));
        } // the circuit ends: unsaved results go

        var gallery = App.Services.GetRequiredService<GalleryService>();
        var remaining = (await gallery.QueryAsync(userId, new GalleryQuery(), TestContext.Current.CancellationToken)).Items.Select(i => i.Id).ToList();
        Assert.Equal([streamed.First().ImageId!.Value], remaining);
    }

    /// <summary>The runner of a circuit signed in as <paramref name="userId"/>.</summary>
    private static LabJobRunner RunnerFor(AsyncServiceScope scope, string userId)
    {
        scope.ServiceProvider.GetRequiredService<CurrentUser>().Use(new ClaimsPrincipal(new ClaimsIdentity([new Claim(ClaimTypes.NameIdentifier, userId)], "test")));
        return scope.ServiceProvider.GetRequiredService<LabJobRunner>();
    }

    [Fact]
    public async Task Cell_WithInvalidSettings_FailsWithTheValidationMessage_NoJobStored()
    {
        var (_, userId) = await App.RegisterAsync($"lab-bad-{Guid.NewGuid():N}@example.test");
        await using var scope = App.Services.CreateAsyncScope();
        var runner = RunnerFor(scope, userId);

        var result = await runner.RunOneAsync(new LabCell("bad", new GenerationSettings { Prompt = "x", Steps = 10_000 }), null, TestContext.Current.CancellationToken);

        Assert.Equal(JobState.Failed, result.State);
        Assert.Contains("Steps", result.Error);
        await using var db = App.CreateDbContext();
        Assert.False(await db.GenerationJobs.AnyAsync(j => j.OwnerId == userId, TestContext.Current.CancellationToken));
    }
}
