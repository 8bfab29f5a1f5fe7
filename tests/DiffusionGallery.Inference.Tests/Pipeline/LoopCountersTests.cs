using System.Diagnostics;
using DiffusionGallery.Inference.Abstractions;
using DiffusionGallery.Inference.Pipeline;

namespace DiffusionGallery.Inference.Tests.Pipeline;

/// <summary>The step loop's counters: what each report covers, and when reports are made.</summary>
public sealed class LoopCountersTests
{
    private static readonly long Second = Stopwatch.Frequency;

    [Fact]
    public void AReport_CoversItsIntervalSinceTheLast_AndComesOnceTheIntervalIsFull()
    {
        var reports = new List<RunLoopReport>();
        var counters = new LoopCounters(reports.Add, 2 * Second, start: 10 * Second);

        counters.AddUnet(Second / 2);
        counters.Stepped(10 * Second, 11 * Second, images: 4); // 1 s in, no report yet
        counters.Waited(11 * Second, 11 * Second + Second / 4);
        Assert.Empty(reports);
        counters.AddUnet(Second / 4);
        counters.Stepped(11 * Second + Second / 2, 12 * Second, images: 6); // 2 s: the first report

        var first = Assert.Single(reports);
        Assert.Equal(TimeSpan.FromSeconds(2), first.Wall);
        Assert.Equal(TimeSpan.FromSeconds(1.5), first.Stepping);
        Assert.Equal(TimeSpan.FromSeconds(0.25), first.Waiting);
        Assert.Equal(TimeSpan.FromSeconds(0.75), first.Unet);
        Assert.Equal(2, first.Steps);
        Assert.Equal(10, first.ImageSteps);
        Assert.Equal(5, first.ImagesPerStep);
        Assert.Equal(75, first.Percent(first.Stepping));

        counters.Stepped(12 * Second, 12 * Second + Second / 2, images: 3);
        counters.Flush(13 * Second); // the rest, from the first report on
        Assert.Equal(2, reports.Count);
        Assert.Equal(TimeSpan.FromSeconds(1), reports[1].Wall);
        Assert.Equal(1, reports[1].Steps);
        Assert.Equal(3, reports[1].ImageSteps);
        Assert.Equal(TimeSpan.Zero, reports[1].Unet);

        counters.Flush(14 * Second); // nothing counted since: no report
        Assert.Equal(2, reports.Count);
    }

    [Fact]
    public void AReport_CarriesTheSideThreadsBusyTime_SinceTheLastReport()
    {
        var reports = new List<RunLoopReport>();
        var sideBusy = 3 * Second; // (busy before the run began: not this run's)
        var counters = new LoopCounters(reports.Add, 2 * Second, start: 0, () => sideBusy);

        sideBusy += Second / 2;
        counters.Stepped(0, 2 * Second, images: 1);
        sideBusy += Second / 4;
        counters.Stepped(2 * Second, 3 * Second, images: 1);
        counters.Flush(3 * Second);

        Assert.Equal([TimeSpan.FromSeconds(0.5), TimeSpan.FromSeconds(0.25)], reports.Select(r => r.SideBusy));
        Assert.Equal(25, reports[0].Percent(reports[0].SideBusy));
    }

}
