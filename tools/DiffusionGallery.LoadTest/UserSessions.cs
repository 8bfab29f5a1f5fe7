using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using Microsoft.AspNetCore.SignalR;
using Microsoft.AspNetCore.SignalR.Client;

namespace DiffusionGallery.LoadTest;

/// <summary>
/// What one finished job measured: submit (request sent) to image ready (finish observed), and the server's own time for
/// it (<see cref="JobResource.WorkerMs"/>; null when the server does not report startedAt/finishedAt).
/// </summary>
public sealed record JobOutcome(int User, int Job, Guid JobId, string State, double LatencyMs, int Images, int? BatchSize, int SubmitRetries)
{
    public double? WorkerMs { get; init; }
    /// <summary>When the job was submitted, in milliseconds from the start of the timed run.</summary>
    public double StartMs { get; init; }
    /// <summary>The submission's round trip (the POST, or the hub's Submit call).</summary>
    public double? SubmitMs { get; init; }
    /// <summary>The server's createdAt → startedAt (queued until its run went to the engine).</summary>
    public double? QueueMs { get; init; }
    /// <summary>The server's finishedAt → this client learnt of it (the long-poll answer or the hub update; the same host's clock).</summary>
    public double? AnswerMs { get; init; }
}

/// <summary>One user's connection to the app: runs that user's jobs one at a time.</summary>
public interface IUserSession : IAsyncDisposable
{
    Task<JobOutcome> RunJobAsync(int user, int job, GenerateRequest request, CancellationToken cancellationToken);
}

/// <summary>The REST calls every transport needs (bearer token): submit, read a job, fetch a PNG.</summary>
public sealed class RestClient(HttpClient http, LoadTestOptions options)
{
    public HttpClient Http => http;

    /// <summary>POST /api/generations; a 429 (queue limit) is waited out like a polite client and counted.</summary>
    public async Task<(JobResource Job, int Retries)> SubmitAsync(GenerateRequest request, CancellationToken cancellationToken)
    {
        for (var retries = 0; ; retries++)
        {
            using var response = await http.PostAsJsonAsync("api/generations", request, Json.Web, cancellationToken);
            if (response.StatusCode == HttpStatusCode.TooManyRequests && retries < 1000)
            {
                await Task.Delay(response.Headers.RetryAfter?.Delta ?? TimeSpan.FromMilliseconds(200), cancellationToken);
                continue;
            }
            if (response.StatusCode != HttpStatusCode.Accepted)
                throw new LoadTestException($"submit-http-{(int)response.StatusCode}", await Describe(response, cancellationToken));
            var job = await response.Content.ReadFromJsonAsync<JobResource>(Json.Web, cancellationToken);
            return (job ?? throw new LoadTestException("submit-bad-answer", "The submission answer was empty."), retries);
        }
    }

    /// <param name="waitSeconds">Above 0: a long poll (<c>?wait=</c>), answered when the job finishes or after that many seconds.</param>
    public async Task<JobResource> GetJobAsync(Guid id, CancellationToken cancellationToken, int waitSeconds = 0)
    {
        using var response = await http.GetAsync(waitSeconds > 0 ? $"api/generations/{id}?wait={waitSeconds}" : $"api/generations/{id}", cancellationToken);
        if (response.StatusCode != HttpStatusCode.OK)
            throw new LoadTestException($"get-http-{(int)response.StatusCode}", await Describe(response, cancellationToken));
        return await response.Content.ReadFromJsonAsync<JobResource>(Json.Web, cancellationToken)
            ?? throw new LoadTestException("get-bad-answer", "The job answer was empty.");
    }

    /// <summary>Checks the outcome of a finished job: succeeded, with an image (downloaded and checked when asked).</summary>
    public async Task CheckAsync(JobResource job, CancellationToken cancellationToken)
    {
        switch (job.State)
        {
            case "Failed": throw new LoadTestException("job-failed", $"Job {job.Id} failed: {job.Error}");
            case "Cancelled": throw new LoadTestException("job-cancelled", $"Job {job.Id} was cancelled.");
        }
        if (job.Images is not { Count: > 0 } images) throw new LoadTestException("no-image", $"Job {job.Id} succeeded without an image.");
        if (!options.VerifyImages) return;
        foreach (var image in images)
        {
            var png = await http.GetByteArrayAsync(image.Png.TrimStart('/'), cancellationToken);
            if (png.Length < 8 || !png.AsSpan(0, 8).SequenceEqual(PngSignature))
                throw new LoadTestException("bad-png", $"Job {job.Id}: {image.Png} is not a PNG.");
        }
    }

    private static readonly byte[] PngSignature = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A];

    private static async Task<string> Describe(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        var body = await response.Content.ReadAsStringAsync(cancellationToken);
        return $"{(int)response.StatusCode} {response.ReasonPhrase}: {(body.Length > 300 ? body[..300] : body)}";
    }

    public static HttpClient CreateHttp(HttpMessageHandler shared, Uri baseUrl, string token)
    {
        var http = new HttpClient(shared, disposeHandler: false) { BaseAddress = baseUrl, Timeout = TimeSpan.FromSeconds(120) };
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        return http;
    }
}

/// <summary>
/// REST: POST, then GET the job with <c>?wait=</c> (a long poll the server answers as soon as the job finishes) until it
/// has finished; or, with <see cref="LoadTestOptions.RestWaitSeconds"/> 0 (<c>--poll</c>), GET it every poll interval,
/// so the measured latency includes up to one interval (50 ms by default).
/// </summary>
public sealed class RestUserSession(RestClient rest, LoadTestOptions options) : IUserSession
{
    public async Task<JobOutcome> RunJobAsync(int user, int job, GenerateRequest request, CancellationToken cancellationToken)
    {
        var started = Stopwatch.GetTimestamp();
        var (submitted, retries) = await rest.SubmitAsync(request, cancellationToken);
        var submitMs = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
        var current = submitted;
        while (!current.IsFinished)
        {
            var elapsed = Stopwatch.GetElapsedTime(started);
            if (elapsed > options.JobTimeout) throw new LoadTestException("timeout", $"Job {submitted.Id} did not finish in {options.JobTimeout}.");
            if (options.RestWaitSeconds > 0)
            {
                var wait = Math.Clamp((int)Math.Ceiling((options.JobTimeout - elapsed).TotalSeconds), 1, options.RestWaitSeconds);
                var asked = Stopwatch.GetTimestamp();
                current = await rest.GetJobAsync(submitted.Id, cancellationToken, wait);
                // A server without ?wait= answers at once: fall back to the poll interval rather than spin.
                if (!current.IsFinished && Stopwatch.GetElapsedTime(asked) < TimeSpan.FromSeconds(wait) / 2) await Task.Delay(options.PollInterval, cancellationToken);
                continue;
            }
            await Task.Delay(options.PollInterval, cancellationToken);
            current = await rest.GetJobAsync(submitted.Id, cancellationToken);
        }
        var latency = Stopwatch.GetElapsedTime(started);
        var seen = DateTimeOffset.UtcNow;
        await rest.CheckAsync(current, cancellationToken);
        return new(user, job, current.Id, current.State, latency.TotalMilliseconds, current.Images?.Count ?? 0, current.BatchSize, retries)
        {
            WorkerMs = current.WorkerMs, SubmitMs = submitMs, QueueMs = current.QueueMs,
            AnswerMs = current.FinishedAt is { } finished ? (seen - finished).TotalMilliseconds : null,
        };
    }

    public ValueTask DisposeAsync()
    {
        rest.Http.Dispose();
        return ValueTask.CompletedTask;
    }
}

/// <summary>
/// Hub: Submit (which subscribes the connection to the job), then wait for the JobUpdated that finishes it; no polling.
/// The job resource is read once afterwards (outside the timed part) for its images and batchSize.
/// </summary>
public sealed class HubUserSession : IUserSession
{
    private readonly HubConnection _connection;
    private readonly RestClient _rest;
    private readonly LoadTestOptions _options;
    private readonly ConcurrentDictionary<Guid, TaskCompletionSource<(HubJobUpdate Update, long At, DateTimeOffset Seen)>> _finished = new();

    private HubUserSession(HubConnection connection, RestClient rest, LoadTestOptions options)
    {
        (_connection, _rest, _options) = (connection, rest, options);
        // Stamped on arrival, before any continuation runs, so a busy client does not inflate the latency.
        connection.On<HubJobUpdate>("JobUpdated", update =>
        {
            if (update.IsFinished) Finished(update.JobId).TrySetResult((update, Stopwatch.GetTimestamp(), DateTimeOffset.UtcNow));
        });
        // A dropped connection fails the job being waited for at once rather than after the job timeout.
        connection.Closed += error =>
        {
            foreach (var waiting in _finished.Values)
                waiting.TrySetException(new LoadTestException("hub-closed", $"The hub connection closed: {error?.Message ?? "by the server"}"));
            return Task.CompletedTask;
        };
    }

    public static async Task<HubUserSession> ConnectAsync(Uri baseUrl, string token, RestClient rest, LoadTestOptions options, CancellationToken cancellationToken)
    {
        var connection = new HubConnectionBuilder()
            .WithUrl(new Uri(baseUrl, "hubs/generation"), http => http.AccessTokenProvider = () => Task.FromResult<string?>(token))
            .Build();
        connection.ServerTimeout = TimeSpan.FromSeconds(120);
        try
        {
            await connection.StartAsync(cancellationToken);
        }
        catch (Exception ex) when (ex is HttpRequestException or InvalidOperationException)
        {
            await connection.DisposeAsync();
            throw new LoadTestException("hub-connect", $"Could not connect to the hub: {ex.Message}", ex);
        }
        return new HubUserSession(connection, rest, options);
    }

    private TaskCompletionSource<(HubJobUpdate Update, long At, DateTimeOffset Seen)> Finished(Guid jobId) =>
        _finished.GetOrAdd(jobId, _ => new(TaskCreationOptions.RunContinuationsAsynchronously));

    public async Task<JobOutcome> RunJobAsync(int user, int job, GenerateRequest request, CancellationToken cancellationToken)
    {
        var started = Stopwatch.GetTimestamp();
        HubJobUpdate submitted;
        try
        {
            submitted = await _connection.InvokeAsync<HubJobUpdate>("Submit", request, cancellationToken);
        }
        catch (HubException ex)
        {
            throw new LoadTestException("hub-submit", ex.Message, ex);
        }
        var submitMs = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
        long finishedAt;
        var seen = DateTimeOffset.UtcNow;
        if (submitted.IsFinished)
        {
            finishedAt = Stopwatch.GetTimestamp();
        }
        else
        {
            try
            {
                (_, finishedAt, seen) = await Finished(submitted.JobId).Task.WaitAsync(_options.JobTimeout, cancellationToken);
            }
            catch (TimeoutException)
            {
                throw new LoadTestException("timeout", $"Job {submitted.JobId} sent no finishing update in {_options.JobTimeout}.");
            }
        }
        _finished.TryRemove(submitted.JobId, out _);
        var latency = Stopwatch.GetElapsedTime(started, finishedAt);
        var resource = await _rest.GetJobAsync(submitted.JobId, cancellationToken);
        await _rest.CheckAsync(resource, cancellationToken);
        return new(user, job, resource.Id, resource.State, latency.TotalMilliseconds, resource.Images?.Count ?? 0, resource.BatchSize, 0)
        {
            WorkerMs = resource.WorkerMs, SubmitMs = submitMs, QueueMs = resource.QueueMs,
            AnswerMs = resource.FinishedAt is { } finished ? (seen - finished).TotalMilliseconds : null,
        };
    }

    public async ValueTask DisposeAsync()
    {
        await _connection.DisposeAsync();
        _rest.Http.Dispose();
    }
}
