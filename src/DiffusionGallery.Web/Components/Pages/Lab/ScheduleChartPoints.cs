namespace DiffusionGallery.Web.Components.Pages.Lab;

/// <summary>Where the forward-process chart samples the schedule: every <see cref="Step"/> timesteps from 0 and the last
/// one, labelled only on round ticks (0, 250, 500, …), never on odd ones such as 749 or 999.</summary>
public sealed record ScheduleChartPoints(IReadOnlyList<int> Timesteps, IReadOnlyList<string> Labels)
{
    public const int Step = 25;
    public const int LabelEvery = 250;

    public static ScheduleChartPoints For(int trainTimesteps)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(trainTimesteps, 2);
        var last = trainTimesteps - 1;
        var ts = Enumerable.Range(0, last / Step + 1).Select(i => i * Step).ToList();
        if (ts[^1] != last) ts.Add(last);
        return new ScheduleChartPoints(ts, ts.Select(t => t % LabelEvery == 0 ? t.ToString(System.Globalization.CultureInfo.InvariantCulture) : "").ToList());
    }
}
