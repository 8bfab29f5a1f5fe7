using System.Collections.Concurrent;
using DiffusionGallery.Web.Data.Entities;
using DiffusionGallery.Web.Generation;
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
            var runner = scope.ServiceProvider.GetRequiredService<LabJobRunner>();
            await runner.RunAsync(userId, cells, result => { streamed.Enqueue(result); return Task.CompletedTask; }, TestContext.Current.CancellationToken);

            Assert.Equal(cells.Select(c => c.Key).Order(), streamed.Select(r => r.Key).Order());
            Assert.All(streamed, r =>
            {
                Assert.Equal(JobState.Succeeded, r.State);
                Assert.NotNull(r.ImageId);
                Assert.True(r.Elapsed > TimeSpan.Zero, $"{r.Key} has no time");
            });
            await using var db = App.CreateDbContext();
            var jobs = await db.GenerationJobs.Where(j => j.OwnerId == userId).ToListAsync(TestContext.Current.CancellationToken);
            Assert.Equal(3, jobs.Count); // through the queue, as the user's own jobs
            Assert.Equal(3, await db.UsageEntries.CountAsync(u => u.UserId == userId, TestContext.Current.CancellationToken));

            var kept = streamed.First().ImageId!.Value;
            runner.Save(kept);
            Assert.True(runner.IsSaved(kept));
        } // the circuit ends: unsaved results go

        var gallery = App.Services.GetRequiredService<GalleryService>();
        var remaining = (await gallery.QueryAsync(userId, new GalleryQuery(), TestContext.Current.CancellationToken)).Items.Select(i => i.Id).ToList();
        Assert.Equal([streamed.First().ImageId!.Value], remaining);
    }

    [Fact]
    public async Task Cell_WithInvalidSettings_FailsWithTheValidationMessage_NoJobStored()
    {
        var (_, userId) = await App.RegisterAsync($"lab-bad-{Guid.NewGuid():N}@example.test");
        await using var scope = App.Services.CreateAsyncScope();
        var runner = scope.ServiceProvider.GetRequiredService<LabJobRunner>();

        var result = await runner.RunOneAsync(userId, new LabCell("bad", new GenerationSettings { Prompt = "x", Steps = 10_000 }), null, TestContext.Current.CancellationToken);

        Assert.Equal(JobState.Failed, result.State);
        Assert.Contains("Steps must be between", result.Error);
        await using var db = App.CreateDbContext();
        Assert.False(await db.GenerationJobs.AnyAsync(j => j.OwnerId == userId, TestContext.Current.CancellationToken));
    }
}
