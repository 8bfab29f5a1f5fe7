using DiffusionGallery.Web.Generation;

namespace DiffusionGallery.Web.Tests.Generation;

public sealed class RunPhasesTests
{
    private static readonly DateTimeOffset T0 = new(2026, 12, 7, 23, 0, 0, TimeSpan.Zero);

    private static GenerationQueue.RunningJob Job(double dequeued, double? taken, double? left)
    {
        var job = new GenerationQueue.RunningJob(Guid.NewGuid(), "u", new CancellationTokenSource()) { DequeuedAt = T0.AddMilliseconds(dequeued) };
        if (taken is { } t) job.ChargedFrom = T0.AddMilliseconds(t);
        if (left is { } l) job.LeftEngineAt = T0.AddMilliseconds(l);
        return job;
    }

    [Fact]
    public void Each_phase_is_the_mean_over_the_jobs_the_engine_handed_back()
    {
        GenerationQueue.RunningJob[] jobs =
        [
            Job(0, 20, 120),   // ready 20, engine 100, saved 30 later
            Job(10, 50, 110),  // ready 40, engine 60, saved 40 later
            Job(0, 5, null),   // still in the engine: left out
        ];

        Assert.Equal("ready_wait 30.0, in_engine 80.0, to_saved 35.0", RunStages.Phases(jobs, T0.AddMilliseconds(150)));
    }

    [Fact]
    public void A_job_the_engine_took_when_it_was_dequeued_waited_nothing_ready() =>
        // (ChargedFrom defaults to DequeuedAt: the jobs a run starts with)
        Assert.Equal("ready_wait 0.0, in_engine 90.0, to_saved 10.0", RunStages.Phases([Job(10, null, 100)], T0.AddMilliseconds(110)));

    [Fact]
    public void Without_a_handed_back_job_there_is_nothing_to_say() =>
        Assert.Equal("", RunStages.Phases([Job(0, 1, null)], T0));
}
