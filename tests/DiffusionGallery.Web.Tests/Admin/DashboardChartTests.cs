using System.Text.RegularExpressions;
using Bunit;
using DiffusionGallery.Web.Admin;
using MudBlazor;

namespace DiffusionGallery.Web.Tests.Admin;

/// <summary>The dashboard's per-day bar chart as MudBlazor draws it: the last label sits under the last bar, and names that bar's day.</summary>
public sealed partial class DashboardChartTests : Components.MudTestContext
{
    [Fact]
    public void FourteenDays_TheLastBarIsLabelledWithItsOwnDate()
    {
        var today = new DateOnly(2026, 12, 8);
        var days = Enumerable.Range(0, 14).Select(i => today.AddDays(i - 13)).ToList();
        var chart = Render<MudChart<double>>(p => p
            .Add(x => x.ChartType, ChartType.Bar)
            .Add(x => x.ChartLabels, DayAxisLabels.For(days))
            .Add(x => x.ChartSeries, [new ChartSeries<double> { Name = "Images", Data = new ChartData<double>(days.Select(d => (double)d.Day).ToList()) }]));

        var bars = chart.FindAll("path.mud-chart-bar").Select(b => BarX().Match(b.GetAttribute("d")!).Groups[1].Value).ToList();
        var labels = chart.FindAll("text").Where(t => t.TextContent.StartsWith("Dec", StringComparison.Ordinal) || t.TextContent.StartsWith("Nov", StringComparison.Ordinal)).ToList();

        Assert.Equal(14, bars.Count);
        var last = labels[^1];
        Assert.Equal("Dec 8", last.TextContent);
        Assert.Equal(bars[^1], last.GetAttribute("x")); // under the last bar (Dec 8), not one bar before it
    }

    [GeneratedRegex(@"^M ([\d.]+) ")]
    private static partial Regex BarX();
}
