using DiffusionGallery.Web.Accounts;
using DiffusionGallery.Web.Admin;
using DiffusionGallery.Web.Data.Entities;
using DiffusionGallery.Web.Gallery;
using DiffusionGallery.Web.Generation;
using DiffusionGallery.Web.Options;
using DiffusionGallery.Web.Quotas;
using Microsoft.Extensions.Logging.Abstractions;
using MsOptions = Microsoft.Extensions.Options.Options;

namespace DiffusionGallery.Web.Tests.Support;

/// <summary>Submission, quotas, queue, notifier, store and worker wired by hand around a fake engine and a temporary database.</summary>
internal sealed class QueueHarness : IDisposable
{
    public QueueHarness(GenerationOptions? generation = null, QuotaOptions? quotas = null, TimeProvider? time = null)
    {
        Options = generation ?? new GenerationOptions();
        Time = time ?? TimeProvider.System;
        Notifier = new JobNotifier(NullLogger<JobNotifier>.Instance);
        RequestFactory = new GenerationRequestFactory(Generator, MsOptions.Create(Options), MsOptions.Create(new InferenceOptions()));
        Engines = new EngineDevices([DeviceEngine.For(0, Generator)]);
        Queue = new GenerationQueue(Notifier, Costs, Time, new JobBatching(RequestFactory, Engines, MsOptions.Create(Options), NullLogger<JobBatching>.Instance));
        Access = new DisabledUserAccessCheck(Database, Time);
        Policy = new EffectiveQuotaResolver(Database, MsOptions.Create(quotas ?? new QuotaOptions()));
        Quotas = new QuotaService(Database, Policy, Access, Costs,
            new QuotaClock(Time), MsOptions.Create(Options), NullLogger<QuotaService>.Instance);
        Store = new ImageStore(MsOptions.Create(new StorageOptions { Root = Path.Combine(Database.Folder, "images") }));
        Gallery = new GalleryService(Database, Store, NullLogger<GalleryService>.Instance);
        ImageAccess = new DiffusionGallery.Web.Sharing.ImageAccess(Database, NullLogger<DiffusionGallery.Web.Sharing.ImageAccess>.Instance);
        var uploadOptions = MsOptions.Create(new Web.Uploads.UploadOptions { Root = Path.Combine(Database.Folder, "uploads") });
        var uploadFiles = new Web.Uploads.UploadStore(uploadOptions);
        Uploads = new Web.Uploads.UploadService(Database, uploadFiles, uploadOptions, Time, NullLogger<Web.Uploads.UploadService>.Instance);
        References = new Web.Uploads.ReferenceImages(new Web.Uploads.VisibleImageSourceResolver(Uploads, ImageAccess, Store), Uploads, uploadFiles, Store);
    }

    public Web.Uploads.UploadService Uploads { get; }

    public DiffusionGallery.Web.Sharing.ImageAccess ImageAccess { get; }

    public Web.Uploads.ReferenceImages References { get; }

    public TestDatabase Database { get; } = new();
    public FakeImageGenerator Generator { get; } = new();
    public EngineDevices Engines { get; }
    public GenerationOptions Options { get; }
    public TimeProvider Time { get; }
    public JobNotifier Notifier { get; }
    public GenerationRequestFactory RequestFactory { get; }
    public GenerationQueue Queue { get; }
    public JobCostEstimator Costs { get; } = new();
    public DisabledUserAccessCheck Access { get; }
    public EffectiveQuotaResolver Policy { get; }
    public QuotaService Quotas { get; }
    public ImageStore Store { get; }
    public GalleryService Gallery { get; }

    public SubmissionService Submissions(ICurrentUser user) =>
        new(user, RequestFactory, Quotas, Queue, Notifier, Database, References, Time, ImageAccess, NullLogger<SubmissionService>.Instance);

    /// <summary>Submits as <paramref name="userId"/> through the real <see cref="SubmissionService"/>.</summary>
    public Task<GenerationJob> SubmitAsync(string userId, GenerationSettings settings, Guid? parentImageId = null, CancellationToken cancellationToken = default) =>
        Submissions(new TestUser(userId)).SubmitAsync(new SubmitCommand(settings) { ParentImageId = parentImageId }, cancellationToken);

    public Task CancelAsync(string userId, Guid jobId, CancellationToken cancellationToken = default) =>
        Submissions(new TestUser(userId)).CancelAsync(jobId, cancellationToken);

    public GenerationSession CreateSession(ICurrentUser user) =>
        new(Submissions(user), Queue, Notifier, CreateQueries(), NullLogger<GenerationSession>.Instance);

    /// <summary>The host's lifetime as <see cref="JobQueries"/> sees it (StopApplication: shutting down).</summary>
    public Microsoft.Extensions.Hosting.Internal.ApplicationLifetime Lifetime { get; } = new(NullLogger<Microsoft.Extensions.Hosting.Internal.ApplicationLifetime>.Instance);

    public JobQueries CreateQueries() => new(Database, Queue, Notifier, Lifetime);

    /// <param name="engines">Other devices' engines than the one fake (all pulling from <see cref="Queue"/>).</param>
    public GenerationWorker CreateWorker(EngineDevices? engines = null) =>
        new(Queue, RequestFactory, References, engines ?? Engines, Database, Store, Notifier, Time, MsOptions.Create(Options), NullLogger<GenerationWorker>.Instance);

    /// <summary>Takes the next run, which must hold one job (with <see cref="FakeImageGenerator.MaxImages"/> 1 every run does).</summary>
    public async Task<GenerationQueue.RunningJob> DequeueOneAsync(CancellationToken cancellationToken) =>
        Assert.Single((await Queue.DequeueRunAsync(cancellationToken)).Jobs);

    /// <summary>
    /// Starts a worker, waits (at most 60 s) for the given jobs' finishing updates and stops it; the other jobs are not
    /// waited for. <paramref name="onUpdate"/> sees every update of those jobs.
    /// </summary>
    public async Task<Dictionary<Guid, JobUpdate>> RunUntilFinishedAsync(IReadOnlyList<Guid> jobIds, Action<Guid, JobUpdate>? onUpdate = null,
        CancellationToken cancellationToken = default)
    {
        var finals = jobIds.ToDictionary(id => id, _ => new TaskCompletionSource<JobUpdate>(TaskCreationOptions.RunContinuationsAsynchronously));
        var subscriptions = jobIds.Select(id => Notifier.Subscribe(id, update =>
        {
            onUpdate?.Invoke(id, update);
            if (update.IsFinished) finals[id].TrySetResult(update);
            return Task.CompletedTask;
        })).ToList();
        using var worker = CreateWorker();
        await worker.StartAsync(cancellationToken);
        try
        {
            await Task.WhenAll(finals.Values.Select(f => f.Task)).WaitAsync(TimeSpan.FromSeconds(60), cancellationToken);
        }
        finally
        {
            await worker.StopAsync(cancellationToken);
            subscriptions.ForEach(s => s.Dispose());
        }
        return finals.ToDictionary(p => p.Key, p => p.Value.Task.Result);
    }

    /// <summary>Submits one job and takes it as the next run (the queue must have been empty).</summary>
    public async Task<GenerationQueue.RunningJob> DequeueAfterSubmitAsync(string userId, GenerationSettings settings)
    {
        var job = await SubmitAsync(userId, settings);
        var running = await DequeueOneAsync(default);
        Assert.Equal(job.Id, running.JobId);
        return running;
    }

    public JobRecovery CreateRecovery() => new(Database, Queue, Time, NullLogger<JobRecovery>.Instance);

    public static GenerationSettings Settings(string prompt = "a red circle", int steps = 4, long seed = 42, int batch = 1) =>
        new() { Prompt = prompt, Steps = steps, Seed = seed, BatchCount = batch, Model = "tiny-shapes" };

    public void Dispose()
    {
        Lifetime.StopApplication();
        Database.Dispose();
    }
}

/// <summary>A fixed caller (null: anonymous), for unit tests of services that ask <see cref="ICurrentUser"/>.</summary>
internal sealed class TestUser(string? userId, params string[] roles) : ICurrentUser
{
    public string? UserId { get; } = userId;
    public bool IsAuthenticated => UserId is not null;
    public bool IsInRole(string role) => IsAuthenticated && roles.Contains(role);
    public string RequireUserId() => UserId ?? throw new Web.Errors.SignInRequiredException();
}
