using Microsoft.Extensions.Options;

namespace DiffusionGallery.Web.Uploads;

/// <summary>Runs <see cref="UploadService.SweepAsync"/> at start-up and then every <see cref="UploadOptions.SweepInterval"/>.</summary>
internal sealed class UploadRetentionSweeper(UploadService uploads, IOptions<UploadOptions> options, TimeProvider time, ILogger<UploadRetentionSweeper> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(options.Value.SweepInterval, time);
        do
        {
            try
            {
                await uploads.SweepAsync(stoppingToken);
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                logger.LogWarning(ex, "Upload retention sweep failed; it runs again in {Interval}", options.Value.SweepInterval);
            }
        }
        while (await WaitAsync(timer, stoppingToken));
    }

    private static async Task<bool> WaitAsync(PeriodicTimer timer, CancellationToken stoppingToken)
    {
        try
        {
            return await timer.WaitForNextTickAsync(stoppingToken);
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }
}
