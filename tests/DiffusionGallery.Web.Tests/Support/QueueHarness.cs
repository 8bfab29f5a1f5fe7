using DiffusionGallery.Web.Generation;
using DiffusionGallery.Web.Options;
using DiffusionGallery.Web.Storage;
using Microsoft.Extensions.Logging.Abstractions;
using MsOptions = Microsoft.Extensions.Options.Options;

namespace DiffusionGallery.Web.Tests.Support;

/// <summary>Queue, notifier, store and worker wired by hand around a fake engine and a temporary database.</summary>
internal sealed class QueueHarness : IDisposable
{
    public QueueHarness(GenerationOptions? generation = null, QuotaOptions? quotas = null)
    {
        Options = generation ?? new GenerationOptions();
        Notifier = new JobNotifier(NullLogger<JobNotifier>.Instance);
        RequestFactory = new GenerationRequestFactory(Generator, MsOptions.Create(Options), MsOptions.Create(new InferenceOptions()));
        Queue = new GenerationQueue(Database, RequestFactory, Notifier, MsOptions.Create(Options), MsOptions.Create(quotas ?? new QuotaOptions()), TimeProvider.System, NullLogger<GenerationQueue>.Instance);
        Store = new ImageStore(MsOptions.Create(new StorageOptions { Root = Path.Combine(Database.Folder, "images") }));
        Gallery = new GalleryService(Database, Store, NullLogger<GalleryService>.Instance);
    }

    public TestDatabase Database { get; } = new();
    public FakeImageGenerator Generator { get; } = new();
    public GenerationOptions Options { get; }
    public JobNotifier Notifier { get; }
    public GenerationRequestFactory RequestFactory { get; }
    public GenerationQueue Queue { get; }
    public ImageStore Store { get; }
    public GalleryService Gallery { get; }

    public GenerationWorker CreateWorker() =>
        new(Queue, RequestFactory, Generator, Database, Store, Notifier, TimeProvider.System, NullLogger<GenerationWorker>.Instance);

    public static Data.Entities.GenerationSettings Settings(string prompt = "a red circle", int steps = 4, long seed = 42, int batch = 1) =>
        new() { Prompt = prompt, Steps = steps, Seed = seed, BatchCount = batch, Model = "tiny-shapes" };

    public void Dispose() => Database.Dispose();
}
