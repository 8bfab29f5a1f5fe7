using System.Net;
using DiffusionGallery.Web.Admin;
using DiffusionGallery.Web.Quotas;

namespace DiffusionGallery.Web.Tests.Admin;

public sealed class AdminHelpersTests
{
    [Theory]
    [InlineData("plain", "plain")]
    [InlineData("a,b", "\"a,b\"")]
    [InlineData("say \"hi\"", "\"say \"\"hi\"\"\"")]
    [InlineData("=1+1", "'=1+1")]
    [InlineData("+cmd", "'+cmd")]
    [InlineData("-2", "'-2")]
    [InlineData("@SUM(A1)", "'@SUM(A1)")]
    [InlineData("line\nbreak", "\"line\nbreak\"")]
    public void CsvEscape_QuotesAndDefusesFormulas(string cell, string expected) => Assert.Equal(expected, CsvWriter.Escape(cell));

    [Theory]
    [InlineData(14)]
    [InlineData(7)]
    [InlineData(30)]
    [InlineData(1)]
    public void DayAxisLabels_TheLastBarAlwaysCarriesItsOwnDate_AtMostSevenLabels(int count)
    {
        var today = new DateOnly(2026, 12, 8); // UTC days, oldest first, ending today (as UsageDashboard builds them)
        var days = Enumerable.Range(0, count).Select(i => today.AddDays(i - count + 1)).ToList();

        var labels = DayAxisLabels.For(days);

        Assert.Equal(count, labels.Length);
        Assert.Equal("Dec 8", labels[^1]); // was "" under the last bar, with "Dec 7" the last label (14 days)
        Assert.InRange(labels.Count(l => l.Length > 0), 1, DayAxisLabels.MaxLabels);
        for (var i = 0; i < count; i++)
            if (labels[i].Length > 0) Assert.Equal(days[i].ToString("MMM d", System.Globalization.CultureInfo.InvariantCulture), labels[i]); // each under its own bar
    }

    [Fact]
    public void CsvEscape_NumbersAreInvariantAndNotDefused() => Assert.Equal("-1.5", CsvWriter.Escape(-1.5));

    [Fact]
    public void AuditClean_RemovesLineBreaks_AndBounds() => Assert.Equal("a  b", AuditLog.Clean("a\r\nb", 10)![..4]);

    [Fact]
    public void Percentiles_NearestRank()
    {
        var waits = Enumerable.Range(1, 100).Select(i => (double)i).ToList();
        var stats = UsageDashboard.Percentiles(waits);
        Assert.Equal((100, 50.0, 95.0), (stats.Jobs, stats.P50Seconds, stats.P95Seconds));
        Assert.Equal(new WaitStats(0, 0, 0), UsageDashboard.Percentiles([]));
        Assert.Equal(new WaitStats(1, 7, 7), UsageDashboard.Percentiles([7]));
    }

    [Theory]
    [InlineData("127.0.0.1", true)]
    [InlineData("::1", true)]
    [InlineData("::ffff:127.0.0.1", true)]
    [InlineData("10.1.2.3", false)]
    [InlineData("2001:db8::1", false)]
    public void MetricsOptions_DefaultAllowsLoopbackOnly(string address, bool allowed) =>
        Assert.Equal(allowed, new MetricsOptions().Allows(IPAddress.Parse(address)));

    [Fact]
    public void MetricsOptions_BadNetwork_FailsValidation()
    {
        var options = new MetricsOptions { AllowedNetworks = ["10.0.0.0/8", "not-a-network"] };
        Assert.Single(options.Validate(new(options)));
        Assert.False(options.Allows(null));
    }

    [Fact]
    public void QuotaClock_DayRunsMidnightToMidnightUtc()
    {
        var time = new FixedTime(new DateTimeOffset(2026, 12, 6, 23, 30, 0, TimeSpan.FromHours(-2))); // 01:30 UTC on the 7th
        var clock = new QuotaClock(time);
        Assert.Equal(new DateTimeOffset(2026, 12, 7, 0, 0, 0, TimeSpan.Zero), clock.DayStart);
        Assert.Equal(new DateTimeOffset(2026, 12, 8, 0, 0, 0, TimeSpan.Zero), clock.NextReset);
        Assert.Equal(new DateTimeOffset(2026, 12, 1, 0, 0, 0, TimeSpan.Zero), clock.MonthStart);
    }
}

internal sealed class FixedTime(DateTimeOffset now) : TimeProvider
{
    public DateTimeOffset Now { get; set; } = now;
    public override DateTimeOffset GetUtcNow() => Now.ToUniversalTime();
}
