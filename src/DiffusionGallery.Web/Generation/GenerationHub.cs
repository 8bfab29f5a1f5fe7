using System.Collections.Concurrent;
using DiffusionGallery.Inference.Abstractions;
using DiffusionGallery.Web.Accounts;
using DiffusionGallery.Web.Data.Entities;
using DiffusionGallery.Web.Errors;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.SignalR;
using Microsoft.Extensions.Options;

namespace DiffusionGallery.Web.Generation;

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
public sealed class GenerationHub(SubmissionService submissions, GenerationRequestFactory requests, JobQueries jobs, HubSubscriptions subscriptions,
    ICurrentUser currentUser, IOptions<JsonHubProtocolOptions> protocol, ILogger<GenerationHub> logger) : Hub<IGenerationClient>
{
    public const string Path = "/hubs/generation";

    /// <param name="settings">The same JSON object as <c>POST /api/generations</c>' body, read here (not bound by SignalR) so
    /// that a wrong type or an unknown name gets the REST API's message ("Unknown sampler 'Bogus'. Valid names: …").</param>
    public async Task<JobUpdate> Submit(System.Text.Json.JsonElement settings)
    {
        var request = JsonBody.Read<GenerateRequestDto>(settings, protocol.Value.PayloadSerializerOptions);
        var userAgent = Context.GetHttpContext()?.Request.Headers.UserAgent.ToString();
        var job = await submissions.SubmitAsync(request.ToCommand(requests.ResolveModel(request.Model), JobOrigins.Hub, userAgent), Context.ConnectionAborted);
        subscriptions.Add(Context.ConnectionId, job.Id);
        // As it is now: queued at its position, or running when an idle worker took it at once (JobQueries tells which).
        return await jobs.GetAsync(job.OwnerId, job.Id, Context.ConnectionAborted) ?? throw new NotFoundException("Job not found.");
    }

    public async Task<JobUpdate> Subscribe(Guid jobId)
    {
        var userId = currentUser.RequireUserId();
        var job = await jobs.GetAsync(userId, jobId, Context.ConnectionAborted);
        if (job is null)
        {
            logger.LogWarning("User {UserId} tried to subscribe to job {JobId}, which is not theirs or does not exist", userId, jobId);
            throw new NotFoundException("Job not found.");
        }
        if (!job.IsFinished) subscriptions.Add(Context.ConnectionId, jobId);
        return job;
    }

    /// <summary>True when the job was stopped; false when there is no queued or running job of yours with this id.</summary>
    public async Task<bool> Cancel(Guid jobId)
    {
        try
        {
            await submissions.CancelAsync(jobId, Context.ConnectionAborted);
            return true;
        }
        catch (NotFoundException)
        {
            return false;
        }
    }

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
