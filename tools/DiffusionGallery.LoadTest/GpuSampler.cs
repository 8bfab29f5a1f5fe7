using System.ComponentModel;
using System.Diagnostics;
using System.Globalization;

namespace DiffusionGallery.LoadTest;

/// <summary>
/// Samples GPU busy % during a run: one <c>nvidia-smi --query-gpu=index,utilization.gpu --format=csv,noheader,nounits -lms 100</c>
/// process (a line per GPU every 100 ms) rather than a process per sample.
/// </summary>
public sealed class GpuSampler : IAsyncDisposable
{
    private readonly Process _process;
    private readonly List<(string Device, int Busy)> _samples = [];
    private readonly Task _reader;

    private GpuSampler(Process process)
    {
        _process = process;
        _reader = Task.Run(async () =>
        {
            while (await process.StandardOutput.ReadLineAsync() is { } line)
                if (Parse(line) is { } sample)
                    lock (_samples) _samples.Add(sample);
        });
    }

    /// <summary>"0, 37" (index, busy %); a bare "37" counts as GPU 0; anything else ("[N/A]", errors) is skipped.</summary>
    public static (string Device, int Busy)? Parse(string line)
    {
        var parts = line.Split(',', StringSplitOptions.TrimEntries);
        var (device, value) = parts switch { [var d, var v] => (d, v), [var v] => ("0", v), _ => ("", "") };
        return int.TryParse(value, NumberStyles.Integer, CultureInfo.InvariantCulture, out var busy) && busy is >= 0 and <= 100 ? (device, busy) : null;
    }

    /// <summary>Null (with the reason logged) where nvidia-smi cannot be started.</summary>
    public static GpuSampler? TryStart(Action<string> log)
    {
        try
        {
            var process = Process.Start(new ProcessStartInfo("nvidia-smi", ["--query-gpu=index,utilization.gpu", "--format=csv,noheader,nounits", "-lms", "100"])
            {
                RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false,
            });
            if (process is not null) return new GpuSampler(process);
        }
        catch (Win32Exception ex)
        {
            log($"--gpu-sample: cannot run nvidia-smi ({ex.Message}); no GPU figure");
        }
        return null;
    }

    /// <summary>Stops sampling; returns the mean busy % over all samples (all GPUs), the sample count and the mean per GPU index.</summary>
    public async Task<GpuBusy> StopAsync()
    {
        if (!_process.HasExited) _process.Kill();
        await _process.WaitForExitAsync();
        await _reader;
        lock (_samples)
            return new(_samples.Count > 0 ? _samples.Average(s => s.Busy) : null, _samples.Count,
                _samples.GroupBy(s => s.Device).OrderBy(g => g.Key, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.Average(s => s.Busy)));
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill();
            await _process.WaitForExitAsync();
        }
        _process.Dispose();
    }
}

/// <summary>Mean GPU busy % over a run: all GPUs together and per GPU index.</summary>
public sealed record GpuBusy(double? MeanPercent, int Samples, IReadOnlyDictionary<string, double> ByDevice);
