using System.Diagnostics;
using DiffusionGallery.Inference.Abstractions;

namespace DiffusionGallery.Inference.Pipeline;

/// <summary>
/// Counts where a joinable run's step loop spends its wall time (<see cref="RunLoopReport"/>) and reports each interval
/// of at least <paramref name="intervalTicks"/> (<see cref="Stopwatch"/> ticks) as its step ends, and the rest at
/// <see cref="Flush(long)"/>. The loop's thread only; timestamps are <see cref="Stopwatch.GetTimestamp"/> values.
/// <paramref name="sideBusyTicks"/> (optional) reads the engine's side thread's busy time so far.
/// </summary>
internal sealed class LoopCounters(Action<RunLoopReport> report, long intervalTicks, long start, Func<long>? sideBusyTicks = null)
{
    private long _from = start;
    private long _sideFrom = sideBusyTicks?.Invoke() ?? 0;
    private long _stepping, _waiting, _unet, _imageSteps;
    private int _steps;

    /// <summary>A UNet call of the current step took <paramref name="ticks"/>.</summary>
    public void AddUnet(long ticks) => _unet += ticks;

    /// <summary>The loop waited from <paramref name="start"/> to <paramref name="end"/> for a joiner's admission.</summary>
    public void Waited(long start, long end) => _waiting += end - start;

    /// <summary>A step of <paramref name="images"/> images ran from <paramref name="start"/> to <paramref name="end"/>.</summary>
    public void Stepped(long start, long end, int images)
    {
        _stepping += end - start;
        _steps++;
        _imageSteps += images;
        if (end - _from >= intervalTicks)
            Flush(end);
    }

    /// <summary>Reports what was counted since the last report, up to <paramref name="now"/> (nothing if nothing was).</summary>
    public void Flush(long now)
    {
        if (now <= _from || (_steps == 0 && _waiting == 0))
            return;
        var side = sideBusyTicks?.Invoke() ?? 0;
        var counted = new RunLoopReport(Span(now - _from), Span(_stepping), Span(_waiting), Span(_unet), _steps, _imageSteps, Span(side - _sideFrom));
        _sideFrom = side;
        (_from, _stepping, _waiting, _unet, _imageSteps, _steps) = (now, 0, 0, 0, 0, 0);
        report(counted);
    }

    private static TimeSpan Span(long ticks) => TimeSpan.FromSeconds(ticks / (double)Stopwatch.Frequency);
}
