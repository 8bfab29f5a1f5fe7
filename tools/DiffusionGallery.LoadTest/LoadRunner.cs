using System.Collections.Concurrent;
using System.Diagnostics;

namespace DiffusionGallery.LoadTest;

/// <summary>
/// The load test's core (the console tool and the end-to-end test both call it): gets a token per user, opens each
/// user's session, runs untimed warm-up jobs, then lets all users start together, each submitting its jobs one after
/// another (in <see cref="LoadTestOptions.Depth"/> lanes), and summarises throughput, latency, errors and batch sizes.
/// </summary>
/// <remarks>
/// The server schedules by fair share over recent GPU use (30-minute half-life), so a user with history waits while
/// fresh users catch up. Hence the warm-up runs as its own user (the token file's first line), never a timed one, and
/// <see cref="LoadTestOptions.UserOffset"/> lets successive runs of one token file use disjoint users.
/// </remarks>
public sealed class LoadRunner(LoadTestOptions options, Action<string>? log = null)
{
    private readonly Action<string> _log = log ?? (_ => { });

    public async Task<LoadTestReport> RunAsync(CancellationToken cancellationToken = default)
    {
        options.Validate();
        var prompts = PromptCatalog.Load(options);
        var baseUrl = options.Url.AbsoluteUri.EndsWith('/') ? options.Url : new Uri(options.Url.AbsoluteUri + "/");
        var provisioner = new UserProvisioner(baseUrl, _log);
        var all = await provisioner.GetTokensAsync(1 + options.UserOffset + options.Users, options.TokenFile, cancellationToken);
        if (provisioner.Registered > 0) _log($"registered {provisioner.Registered} users ({provisioner.Throttled} throttled attempts waited out)");
        var tokens = all.Skip(1 + options.UserOffset).ToList();

        using var shared = new SocketsHttpHandler { PooledConnectionLifetime = TimeSpan.FromMinutes(5), MaxConnectionsPerServer = int.MaxValue };
        var sessions = new IUserSession[tokens.Count];
        try
        {
            for (var u = 0; u < tokens.Count; u++) sessions[u] = await OpenAsync(shared, baseUrl, tokens[u], cancellationToken);

            if (options.Warmup > 0)
            {
                await using var warmUser = await OpenAsync(shared, baseUrl, all[0], cancellationToken);
                for (var w = 0; w < options.Warmup; w++)
                {
                    var warm = await warmUser.RunJobAsync(-1, w, prompts.For(-1, w), cancellationToken);
                    _log($"warm-up job {w + 1}/{options.Warmup}: {warm.LatencyMs:0} ms");
                }
            }

            var outcomes = new ConcurrentBag<JobOutcome>();
            var errors = new ConcurrentDictionary<string, int>();
            var samples = new ConcurrentQueue<string>();
            await using var gpu = options.GpuSample ? GpuSampler.TryStart(_log) : null;
            var startedAt = DateTimeOffset.UtcNow;
            var started = Stopwatch.GetTimestamp();
            var go = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            var lanes = sessions.SelectMany((session, user) => Enumerable.Range(0, options.Depth).Select(lane => Task.Run(async () =>
            {
                await go.Task;
                if (options.Stagger > TimeSpan.Zero) await Task.Delay(options.Stagger * user, cancellationToken);
                for (var job = lane; job < options.JobsPerUser; job += options.Depth)
                {
                    try
                    {
                        var startMs = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
                        outcomes.Add(await session.RunJobAsync(user, job, prompts.For(user, job), cancellationToken) with { StartMs = startMs });
                    }
                    catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
                    {
                        var kind = ex is LoadTestException known ? known.Kind : ex.GetType().Name;
                        errors.AddOrUpdate(kind, 1, (_, n) => n + 1);
                        if (samples.Count < 5) samples.Enqueue($"user {user} job {job}: {kind}: {ex.Message}");
                    }
                }
            }, cancellationToken))).ToList();
            go.SetResult();
            await Task.WhenAll(lanes);
            var wall = Stopwatch.GetElapsedTime(started).TotalSeconds;
            var gpuBusy = gpu is null ? null : await gpu.StopAsync();

            var jobs = outcomes.OrderBy(o => o.User).ThenBy(o => o.Job).ToList();
            var images = jobs.Sum(j => j.Images);
            return new LoadTestReport
            {
                Url = baseUrl.AbsoluteUri, Via = options.Via.ToString().ToLowerInvariant(), Users = options.Users, JobsPerUser = options.JobsPerUser, Depth = options.Depth, StaggerMs = options.Stagger.TotalMilliseconds,
                Steps = options.Steps, Width = options.Width, Height = options.Height, StartedAt = startedAt, WallSeconds = wall,
                JobsSucceeded = jobs.Count, Images = images, ImagesPerSecond = wall > 0 ? images / wall : 0,
                Latency = LatencySummary.Of(jobs.Select(j => j.LatencyMs).ToList()),
                WorkerTime = LatencySummary.Of(jobs.Where(j => j.WorkerMs is not null).Select(j => j.WorkerMs!.Value).ToList()),
                SubmitTime = LatencySummary.Of(jobs.Where(j => j.SubmitMs is not null).Select(j => j.SubmitMs!.Value).ToList()),
                QueueTime = LatencySummary.Of(jobs.Where(j => j.QueueMs is not null).Select(j => j.QueueMs!.Value).ToList()),
                AnswerTime = LatencySummary.Of(jobs.Where(j => j.AnswerMs is not null).Select(j => j.AnswerMs!.Value).ToList()),
                Errors = errors.OrderBy(e => e.Key, StringComparer.Ordinal).ToDictionary(e => e.Key, e => e.Value),
                ErrorSamples = [.. samples],
                BatchSizes = jobs.GroupBy(j => j.BatchSize?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "absent")
                    .OrderBy(g => g.Key.Length).ThenBy(g => g.Key, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.Count()),
                SubmitRetries = jobs.Sum(j => j.SubmitRetries), UsersRegistered = provisioner.Registered,
                GpuBusyMeanPercent = gpuBusy?.MeanPercent, GpuSamples = gpuBusy?.Samples ?? 0, GpuBusyByDevice = gpuBusy?.ByDevice,
                PollIntervalMs = options.Via == Transport.Rest && options.RestWaitSeconds == 0 ? options.PollInterval.TotalMilliseconds : null,
                RestWaitSeconds = options.Via == Transport.Rest && options.RestWaitSeconds > 0 ? options.RestWaitSeconds : null, Jobs = jobs,
            };
        }
        finally
        {
            foreach (var session in sessions.Where(s => s is not null)) await session.DisposeAsync();
        }
    }

    private async Task<IUserSession> OpenAsync(HttpMessageHandler shared, Uri baseUrl, string token, CancellationToken cancellationToken)
    {
        var rest = new RestClient(RestClient.CreateHttp(shared, baseUrl, token), options);
        return options.Via switch
        {
            Transport.Hub => await HubUserSession.ConnectAsync(baseUrl, token, rest, options, cancellationToken),
            _ => new RestUserSession(rest, options),
        };
    }
}
