using DiffusionGallery.Web.Components.Pages.Lab;

namespace DiffusionGallery.Web.Tests.Lab;

/// <summary>The forward-process chart's x axis: evenly spaced samples ending at the last timestep, labels only on round ticks.</summary>
public sealed class ScheduleChartPointsTests
{
    [Fact]
    public void ThousandTimesteps_LabelsZeroTo750InSteps()
    {
        var points = ScheduleChartPoints.For(1000);

        Assert.Equal(0, points.Timesteps[0]);
        Assert.Equal(999, points.Timesteps[^1]); // the schedule's last timestep is still plotted
        Assert.All(points.Timesteps.SkipLast(1), t => Assert.Equal(0, t % ScheduleChartPoints.Step));
        Assert.Equal(points.Timesteps.Count, points.Labels.Count);
        Assert.Equal(["0", "250", "500", "750"], points.Labels.Where(l => l.Length > 0));
    }

    [Fact]
    public void ScheduleEndingOnATick_HasNoDuplicateLastPoint()
    {
        var points = ScheduleChartPoints.For(501);

        Assert.Equal(500, points.Timesteps[^1]);
        Assert.Equal(points.Timesteps.Distinct().Count(), points.Timesteps.Count);
        Assert.Equal(["0", "250", "500"], points.Labels.Where(l => l.Length > 0));
    }
}
