using DiffusionGallery.Web.Data.Entities;
using DiffusionGallery.Web.Generation;
using DiffusionGallery.Web.Tests.Support;

namespace DiffusionGallery.Web.Tests.Generation;

public sealed class GenerationSessionTests
{
    [Fact]
    public async Task Submit_TracksJobToSuccess_RaisingChanged()
    {
        using var h = new QueueHarness();
        var userId = await h.Database.AddUserAsync("a@x.test");
        using var session = h.CreateSession(new TestUser(userId));
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var states = new List<JobState>();
        session.Changed += () =>
        {
            lock (states) states.Add(session.Current!.State);
            if (session.Current!.State == JobState.Succeeded) done.TrySetResult();
            return Task.CompletedTask;
        };
        using var worker = h.CreateWorker();
        await worker.StartAsync(TestContext.Current.CancellationToken);

        var jobId = await session.SubmitAsync(QueueHarness.Settings(steps: 5), null, TestContext.Current.CancellationToken);
        await done.Task.WaitAsync(TimeSpan.FromSeconds(30), TestContext.Current.CancellationToken);
        await worker.StopAsync(TestContext.Current.CancellationToken);

        Assert.Equal(jobId, session.Current!.JobId);
        Assert.Equal(JobState.Queued, states[0]);
        Assert.Contains(JobState.Running, states);
        Assert.Single(session.Current.ImageIds);
        Assert.Equal(h.Generator.Requests.Single().Seed, session.CurrentSettings!.Seed);
    }

    [Fact]
    public async Task Disposed_StopsDeliveringAndRefusesSubmit()
    {
        using var h = new QueueHarness();
        var userId = await h.Database.AddUserAsync("a@x.test");
        var session = h.CreateSession(new TestUser(userId));
        var jobId = await session.SubmitAsync(QueueHarness.Settings(), null, TestContext.Current.CancellationToken);
        var raised = 0;
        session.Changed += () => { Interlocked.Increment(ref raised); return Task.CompletedTask; };

        session.Dispose();
        h.Notifier.Publish(new JobUpdate { JobId = jobId, State = JobState.Running, Step = 1, TotalSteps = 4 });
        await Task.Delay(100, TestContext.Current.CancellationToken);

        Assert.Equal(0, raised);
        Assert.Equal(0, h.Notifier.SubscriberCount(jobId));
        await Assert.ThrowsAsync<ObjectDisposedException>(() => session.SubmitAsync(QueueHarness.Settings(), null, TestContext.Current.CancellationToken));
    }

    [Fact]
    public async Task SignedOut_SubmitIsRefusedServerSide()
    {
        using var h = new QueueHarness();
        using var session = h.CreateSession(new TestUser(null));
        await Assert.ThrowsAsync<DiffusionGallery.Web.Errors.SignInRequiredException>(() => session.SubmitAsync(QueueHarness.Settings(), null, TestContext.Current.CancellationToken));
        Assert.Equal(0, h.Queue.QueuedCount);
    }
}
