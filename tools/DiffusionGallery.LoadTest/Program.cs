using System.Text.Json;
using DiffusionGallery.LoadTest;

LoadTestOptions options;
try
{
    if (args is ["--help"] or ["-h"] or []) { Console.WriteLine(LoadTestOptions.Usage); return args.Length == 0 ? 2 : 0; }
    options = LoadTestOptions.Parse(args);
}
catch (ArgumentException ex)
{
    Console.Error.WriteLine(ex.Message);
    Console.Error.WriteLine(LoadTestOptions.Usage);
    return 2;
}

using var cancel = new CancellationTokenSource();
Console.CancelKeyPress += (_, e) => { e.Cancel = true; cancel.Cancel(); };
try
{
    var report = await new LoadRunner(options, message => Console.Error.WriteLine($"[{DateTime.UtcNow:HH:mm:ss}] {message}")).RunAsync(cancel.Token);
    Console.Write(report.ToText());
    if (options.JsonOut is { } path)
        await File.WriteAllTextAsync(path, JsonSerializer.Serialize(report, new JsonSerializerOptions(JsonSerializerDefaults.Web) { WriteIndented = true }));
    return report.ErrorCount == 0 ? 0 : 1;
}
catch (Exception ex) when (ex is LoadTestException or HttpRequestException or ArgumentException)
{
    Console.Error.WriteLine($"load test aborted: {ex.Message}");
    return 3;
}
