using System.Globalization;

namespace DiffusionGallery.Web.Admin;

/// <summary>
/// X-axis labels for the dashboard's per-day charts (one bar per UTC day, oldest first). With more days than fit, every
/// n-th day is labelled counting back from the last, so the newest bar — today — always carries its own date. (Counting
/// from the first left the last bar bare and the last label one bar before it: "Dec 7" at the end of a chart whose last
/// bar was Dec 8.)
/// </summary>
public static class DayAxisLabels
{
    public const int MaxLabels = 7;

    public static string[] For(IReadOnlyList<DateOnly> days, int maxLabels = MaxLabels)
    {
        ArgumentNullException.ThrowIfNull(days);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxLabels, 1);
        var every = Math.Max(1, (int)Math.Ceiling(days.Count / (double)maxLabels));
        var last = days.Count - 1;
        return days.Select((day, i) => (last - i) % every == 0 ? day.ToString("MMM d", CultureInfo.InvariantCulture) : "").ToArray();
    }
}
