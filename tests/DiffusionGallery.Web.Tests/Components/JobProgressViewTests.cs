using Bunit;
using DiffusionGallery.Web.Components.Shared;
using DiffusionGallery.Web.Data.Entities;
using DiffusionGallery.Web.Generation;
using DiffusionGallery.Web.Tests.Support;

namespace DiffusionGallery.Web.Tests.Components;

public sealed class JobProgressViewTests : MudTestContext
{
    [Fact]
    public void Running_ShowsStepRateEtaAndPreview()
    {
        var job = new JobUpdate { JobId = Guid.NewGuid(), State = JobState.Running, Step = 3, TotalSteps = 20, IterationsPerSecond = 12.5, EtaSeconds = 1.4, PreviewPng = FakeImageGenerator.Png(16, 16) };
        var view = Render<JobProgressView>(p => p.Add(x => x.Job, job));

        var step = view.Find("[data-testid=job-step]").TextContent;
        Assert.Contains("Step 3/20", step);
        Assert.Contains("12.5 it/s", step);
        Assert.Contains("ETA 1.4s", step);
        var preview = view.Find("[data-testid=preview]");
        Assert.StartsWith("data:image/png;base64,", preview.GetAttribute("src"));
        Assert.Equal("3", preview.GetAttribute("data-step"));
    }

    [Fact]
    public void Queued_ShowsPosition_AndCancelInvokesCallback()
    {
        var cancelled = false;
        var job = new JobUpdate { JobId = Guid.NewGuid(), State = JobState.Queued, QueuePosition = 3 };
        var view = Render<JobProgressView>(p => p.Add(x => x.Job, job).Add(x => x.OnCancel, () => cancelled = true));

        Assert.Contains("position 3", view.Find("[data-testid=job-status]").TextContent);
        view.Find("[data-testid=cancel]").Click();
        Assert.True(cancelled);
    }

    [Fact]
    public void Failed_ShowsErrorAndNoCancel()
    {
        var job = new JobUpdate { JobId = Guid.NewGuid(), State = JobState.Failed, Error = "The model failed: boom" };
        var view = Render<JobProgressView>(p => p.Add(x => x.Job, job));

        Assert.Contains("boom", view.Find("[data-testid=job-error]").TextContent);
        Assert.Empty(view.FindAll("[data-testid=cancel]"));
        Assert.Empty(view.FindAll("[data-testid=preview]"));
    }
}
