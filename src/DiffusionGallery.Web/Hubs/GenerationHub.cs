using System.Collections.Concurrent;
using DiffusionGallery.Inference.Abstractions;
using DiffusionGallery.Web.Api;
using DiffusionGallery.Web.Auth;
using DiffusionGallery.Web.Generation;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.SignalR;

namespace DiffusionGallery.Web.Hubs;

/// <summary>What the server calls on hub clients.</summary>
public interface IGenerationClient
{
    Task JobUpdated(JobUpdate update);
}

/// <summary>
/// /hubs/generation: an authenticated client (cookie or personal access token) submits jobs and receives
/// their previews and results; it can only subscribe to its own jobs.
/// </summary>
[Authorize(Policy = AuthPolicies.Api)]
public sealed class GenerationHub(GenerationQueue queue, GenerationRequestFactory requests, JobQueries jobs, HubSubscriptions subscriptions,
    ILogger<GenerationHub> logger) : Hub<IGenerationClient>
{
    public const string Path = "/hubs/generation";

    private string UserId => Context.User?.UserId() ?? throw new HubException("Not signed in.");

    public async Task<JobUpdate> Submit(GenerateRequestDto request)
    {
        ArgumentNullException.ThrowIfNull(request);
        try
        {
            var settings = request.ToSettings(requests.ResolveModel(request.Model));
            var job = await queue.EnqueueAsync(UserId, settings, null, Context.ConnectionAborted);
            subscriptions.Add(Context.ConnectionId, job.Id);
            return await jobs.GetAsync(UserId, job.Id, Context.ConnectionAborted) ?? throw new HubException("Job not found.");
        }
        catch (InvalidGenerationRequestException ex)
        {
            throw new HubException(ex.Message);
        }
        catch (QuotaExceededException ex)
        {
            throw new HubException(ex.Message);
        }
    }

    public async Task<JobUpdate> Subscribe(Guid jobId)
    {
        var job = await jobs.GetAsync(UserId, jobId, Context.ConnectionAborted);
        if (job is null)
        {
            logger.LogWarning("User {UserId} tried to subscribe to job {JobId}, which is not theirs or does not exist", UserId, jobId);
            throw new HubException("Job not found.");
        }
        if (!job.IsFinished) subscriptions.Add(Context.ConnectionId, jobId);
        return job;
    }

    public Task<bool> Cancel(Guid jobId) => queue.CancelAsync(jobId, UserId, Context.ConnectionAborted);

    public override Task OnDisconnectedAsync(Exception? exception)
    {
        subscriptions.RemoveConnection(Context.ConnectionId);
        return base.OnDisconnectedAsync(exception);
    }
}

/// <summary>Hub connection → job subscriptions (hub instances are transient, so this lives as a singleton).</summary>
public sealed class HubSubscriptions(JobNotifier notifier, IHubContext<GenerationHub, IGenerationClient> hub)
{
    private readonly ConcurrentDictionary<string, ConcurrentDictionary<Guid, IDisposable>> _byConnection = new();

    public void Add(string connectionId, Guid jobId)
    {
        var jobsOfConnection = _byConnection.GetOrAdd(connectionId, _ => new());
        jobsOfConnection.GetOrAdd(jobId, id => notifier.Subscribe(id, async update =>
        {
            await hub.Clients.Client(connectionId).JobUpdated(update);
            if (update.IsFinished && jobsOfConnection.TryRemove(id, out var done)) done.Dispose();
        }));
    }

    public void RemoveConnection(string connectionId)
    {
        if (!_byConnection.TryRemove(connectionId, out var jobsOfConnection)) return;
        foreach (var subscription in jobsOfConnection.Values) subscription.Dispose();
    }
}
