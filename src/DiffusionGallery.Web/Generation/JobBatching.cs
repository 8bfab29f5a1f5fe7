using DiffusionGallery.Inference.Abstractions;
using DiffusionGallery.Web.Data.Entities;
using DiffusionGallery.Web.Options;
using Microsoft.Extensions.Options;

namespace DiffusionGallery.Web.Generation;

/// <summary>
/// Which shared run a waiting job may join: its engine <see cref="BatchKey"/> (null: it runs alone), its own images
/// (never split) and how many images a run with it as the head may hold.
/// </summary>
public sealed record BatchSlot(BatchKey? Key, int Images, int MaxImages)
{
    public static BatchSlot Alone(int images) => new(null, Math.Max(1, images), Math.Max(1, images));
}

/// <summary>Describes stored settings as a <see cref="BatchSlot"/>, with the primary engine's rules (all devices run the same engine).</summary>
public sealed class JobBatching(GenerationRequestFactory requests, EngineDevices engines, IOptions<GenerationOptions> options, ILogger<JobBatching> logger)
{
    private readonly int _cap = options.Value.MaxImagesPerRun;

    /// <summary>How long a run with room may wait for users likely to submit again at once (0: never waits).</summary>
    public TimeSpan GatherWindow { get; } = options.Value.MaxImagesPerRun == 1 ? TimeSpan.Zero : TimeSpan.FromMilliseconds(options.Value.GatherWindowMs);

    public BatchSlot Describe(GenerationSettings? settings)
    {
        if (settings is null) return BatchSlot.Alone(1);
        var images = Math.Max(1, settings.BatchCount);
        // The key does not depend on an img2img reference (loaded only when the job runs): the engine lets such items
        // run from their start step in the shared loop. The worker checks the key again on the loaded request.
        try
        {
            var engine = engines.Primary.Batches;
            var request = requests.ToEngineRequest(settings);
            var max = engine.MaxBatchImages(request);
            if (_cap > 0) max = Math.Min(max, _cap);
            return new BatchSlot(engine.KeyOf(request), images, Math.Max(images, max));
        }
        catch (Exception ex) when (ex is ArgumentException or InvalidOperationException)
        {
            logger.LogDebug(ex, "Settings not batchable; the job runs alone");
            return BatchSlot.Alone(images);
        }
    }
}
