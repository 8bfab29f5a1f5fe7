using System.Collections.Concurrent;
using DiffusionGallery.Web.Generation;
using Microsoft.AspNetCore.SignalR.Client;

namespace DiffusionGallery.Web.Tests.Integration;

/// <summary>Collects JobUpdated messages of one hub connection and waits for a job to finish.</summary>
internal sealed class HubTestClient : IAsyncDisposable
{
    private readonly ConcurrentQueue<JobUpdate> _updates = new();
    private readonly ConcurrentDictionary<Guid, TaskCompletionSource<JobUpdate>> _finished = new();

    private HubTestClient(HubConnection connection)
    {
        Connection = connection;
        connection.On<JobUpdate>("JobUpdated", update =>
        {
            _updates.Enqueue(update);
            OnUpdate?.Invoke(update);
            if (update.IsFinished) Finished(update.JobId).TrySetResult(update);
        });
    }

    public HubConnection Connection { get; }
    public Action<JobUpdate>? OnUpdate { get; set; }
    public IReadOnlyList<JobUpdate> Updates => _updates.ToArray();

    public static async Task<HubTestClient> ConnectAsync(GalleryAppFactory app, string token) => new(await app.ConnectHubAsync(token));

    private TaskCompletionSource<JobUpdate> Finished(Guid jobId) => _finished.GetOrAdd(jobId, _ => new(TaskCreationOptions.RunContinuationsAsynchronously));

    public Task<JobUpdate> SubmitAsync(object request) => Connection.InvokeAsync<JobUpdate>("Submit", request);

    public async Task<JobUpdate> WaitFinishedAsync(JobUpdate initial, TimeSpan? timeout = null)
    {
        if (initial.IsFinished) return initial;
        return await Finished(initial.JobId).Task.WaitAsync(timeout ?? TimeSpan.FromSeconds(60));
    }

    public ValueTask DisposeAsync() => Connection.DisposeAsync();
}
