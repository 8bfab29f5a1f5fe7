using DiffusionGallery.Inference.Abstractions;
using DiffusionGallery.Web.Generation;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;

namespace DiffusionGallery.Web.Tests.Generation;

public sealed class JobProgressReporterTests
{
    private static GenerationProgress Step(int step, int total, bool withPreview = true) =>
        new(step, total, 0, 0, TimeSpan.FromMilliseconds(step), null, withPreview ? [new PreviewFrame(4, 4, new byte[48])] : null);

    [Fact]
    public void NoWatchers_NoPreviewWantedOrEncoded_ProgressStillPublished()
    {
        var notifier = new JobNotifier(NullLogger<JobNotifier>.Instance);
        var reporter = new JobProgressReporter(Guid.NewGuid(), notifier, new FakeTimeProvider());

        Assert.All(Enumerable.Range(1, 10), step => Assert.False(reporter.WantsPreview(step, 10)));
        reporter.Report(Step(10, 10)); // an engine that does not ask still gets no encoding
        Assert.Equal(0, reporter.PreviewsEncoded);
    }

    [Fact]
    public async Task OneWatcher_AtMostOnePreviewPer100Ms_PlusTheLastStep()
    {
        var notifier = new JobNotifier(NullLogger<JobNotifier>.Instance);
        var jobId = Guid.NewGuid();
        var time = new FakeTimeProvider();
        var received = new List<JobUpdate>();
        var last = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using var watcher = notifier.Subscribe(jobId, update =>
        {
            lock (received) received.Add(update);
            if (update.Step == 20) last.TrySetResult();
            return Task.CompletedTask;
        });
        var reporter = new JobProgressReporter(jobId, notifier, time);

        var granted = new List<int>();
        for (var step = 1; step <= 20; step++)
        {
            if (reporter.WantsPreview(step, 20)) granted.Add(step);
            reporter.Report(Step(step, 20, withPreview: granted.Contains(step)));
            time.Advance(TimeSpan.FromMilliseconds(20));
        }
        await last.Task.WaitAsync(TimeSpan.FromSeconds(10), TestContext.Current.CancellationToken);

        Assert.Equal([1, 6, 11, 16, 20], granted); // 20 ms a step: every 5th step, and the final one
        Assert.Equal(5, reporter.PreviewsEncoded);
        lock (received) Assert.NotNull(received.Last(u => u.Step == 20).PreviewPng);
    }

    [Fact]
    public void EngineThatDoesNotAsk_IsRateLimitedWhenReporting()
    {
        var notifier = new JobNotifier(NullLogger<JobNotifier>.Instance);
        var jobId = Guid.NewGuid();
        var time = new FakeTimeProvider();
        using var watcher = notifier.Subscribe(jobId, _ => Task.CompletedTask);
        var reporter = new JobProgressReporter(jobId, notifier, time);

        for (var step = 1; step <= 10; step++)
        {
            reporter.Report(Step(step, 10));
            time.Advance(TimeSpan.FromMilliseconds(10));
        }

        Assert.Equal(2, reporter.PreviewsEncoded); // 10 ms a step: the first, then nothing until 100 ms has passed, and the last step
    }
}
