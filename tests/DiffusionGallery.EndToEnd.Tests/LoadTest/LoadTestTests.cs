using DiffusionGallery.LoadTest;

namespace DiffusionGallery.EndToEnd.Tests.LoadTest;

/// <summary>
/// The load test's core (tools/DiffusionGallery.LoadTest) at small N against the published app on CPU: three users
/// registered through the sign-up form, two jobs each, over REST and over the hub. Every job must succeed with a
/// real PNG and a recorded latency; no errors. (Figures are for docs/benchmarks.md, not asserted here.)
/// </summary>
public sealed class LoadTestTests(AppProcess app, ITestOutputHelper output) : IClassFixture<AppProcess>, IDisposable
{
    private const int Users = 3;
    private const int Jobs = 2;
    private readonly string _tokenFile = Path.Combine(app.DataDir, $"tokens-{Guid.NewGuid():N}.txt");

    private LoadTestOptions Options(Transport via) => new()
    {
        Url = app.BaseUrl, Users = Users, JobsPerUser = Jobs, Via = via, Steps = 3, TokenFile = _tokenFile, VerifyImages = true,
        JobTimeout = TimeSpan.FromMinutes(3),
    };

    [Fact]
    public async Task Rest_three_users_two_jobs_each_all_succeed_with_images()
    {
        var report = await new LoadRunner(Options(Transport.Rest), output.WriteLine).RunAsync(TestContext.Current.CancellationToken);
        output.WriteLine(report.ToText());

        AssertEveryJobSucceeded(report);
        // A fresh token file: each timed user and the warm-up user registered through the form, their tokens kept.
        Assert.Equal(Users + 1, report.UsersRegistered);
        Assert.Equal(Users + 1, File.ReadAllLines(_tokenFile).Count(l => l.StartsWith("dgp_", StringComparison.Ordinal)));
    }

    [Fact]
    public async Task Hub_three_users_two_jobs_each_all_succeed_with_images_and_reuse_the_token_file()
    {
        var provisioner = new UserProvisioner(app.BaseUrl, output.WriteLine);
        var tokens = await provisioner.GetTokensAsync(Users + 1, _tokenFile, TestContext.Current.CancellationToken);
        Assert.Equal(Users + 1, tokens.Distinct().Count());

        var report = await new LoadRunner(Options(Transport.Hub), output.WriteLine).RunAsync(TestContext.Current.CancellationToken);
        output.WriteLine(report.ToText());

        AssertEveryJobSucceeded(report);
        Assert.Equal(0, report.UsersRegistered); // the file had a token for every user: nobody registered again
        Assert.Equal(tokens, File.ReadAllLines(_tokenFile).Where(l => l.Length > 0));
    }

    [Fact]
    public async Task Rest_polling_the_old_way_still_works_and_says_so()
    {
        var options = LoadTestOptions.Parse(["--url", app.BaseUrl.AbsoluteUri, "--poll", "--poll-ms", "40"]) with
        {
            Users = 1, JobsPerUser = 2, Steps = 3, TokenFile = _tokenFile, JobTimeout = TimeSpan.FromMinutes(3),
        };
        Assert.Equal((0, TimeSpan.FromMilliseconds(40)), (options.RestWaitSeconds, options.PollInterval));

        var report = await new LoadRunner(options, output.WriteLine).RunAsync(TestContext.Current.CancellationToken);

        Assert.Equal(2, report.JobsSucceeded);
        Assert.Equal(40, report.PollIntervalMs);
        Assert.Null(report.RestWaitSeconds);
    }

    [Fact]
    public async Task Depth_two_keeps_two_jobs_of_a_user_in_flight_at_once()
    {
        var options = LoadTestOptions.Parse(["--url", app.BaseUrl.AbsoluteUri, "--users", "1", "--jobs", "4", "--depth", "2"]) with
        {
            Steps = 3, TokenFile = _tokenFile, JobTimeout = TimeSpan.FromMinutes(3),
        };

        var report = await new LoadRunner(options, output.WriteLine).RunAsync(TestContext.Current.CancellationToken);
        output.WriteLine(report.ToText());

        Assert.Equal((4, 2), (report.JobsSucceeded, report.Depth));
        Assert.Equal([0, 1, 2, 3], report.Jobs.Select(j => j.Job));
        // Lane 0 runs jobs 0 and 2, lane 1 jobs 1 and 3: jobs 0 and 1 are submitted together, before either has finished.
        var (first, second) = (report.Jobs[0], report.Jobs[1]);
        Assert.True(second.StartMs < first.StartMs + first.LatencyMs && first.StartMs < second.StartMs + second.LatencyMs,
            $"jobs 0 and 1 did not overlap: {first.StartMs:F0}+{first.LatencyMs:F0} ms, {second.StartMs:F0}+{second.LatencyMs:F0} ms");
        Assert.True(report.Jobs[2].StartMs >= first.StartMs + first.LatencyMs - 1, "job 2 waits for job 0 (same lane)");
    }

    [Fact]
    public void Prompt_set_varies_prompt_seed_and_cfg_but_not_what_jobs_are_batched_by()
    {
        var options = Options(Transport.Rest) with { Steps = 7, Width = 64, Height = 96 };
        var catalog = PromptCatalog.Load(options);
        var requests = (from u in Enumerable.Range(0, 4) from j in Enumerable.Range(0, 4) select catalog.For(u, j)).ToList();

        Assert.Equal(requests.Count, requests.Select(r => r.Seed).Distinct().Count());
        Assert.True(requests.Select(r => r.Prompt).Distinct().Count() >= 8);
        Assert.True(requests.Select(r => r.GuidanceScale).Distinct().Count() >= 3);
        Assert.All(requests, r => Assert.Equal((7, 64, 96), (r.Steps, r.Width!.Value, r.Height!.Value)));
        Assert.Equal(catalog.For(2, 3), PromptCatalog.Load(options).For(2, 3)); // reproducible run to run
    }

    [Theory]
    [InlineData("--users", "0", "--users must be between 1 and 10000.")]
    [InlineData("--via", "grpc", "--via must be rest or hub.")]
    [InlineData("--jobs", "many", "--jobs needs a whole number.")]
    [InlineData("--colour", "red", "Unknown option --colour.")]
    [InlineData("--rest-wait", "31", "--rest-wait must be between 0 and 30 seconds.")]
    [InlineData("--depth", "0", "--depth must be between 1 and --jobs.")]
    [InlineData("--depth", "11", "--depth must be between 1 and --jobs.")]
    [InlineData("--stagger-ms", "-5", "--stagger-ms must be between 0 and 60000.")]
    public void Bad_command_lines_are_refused_with_a_clear_message(string name, string value, string message)
    {
        var error = Assert.Throws<ArgumentException>(() => LoadTestOptions.Parse(["--url", "http://127.0.0.1:5000", name, value]));
        Assert.Equal(message, error.Message);
    }

    [Theory]
    [InlineData("0, 37", "0", 37)]
    [InlineData("3, 100", "3", 100)]
    [InlineData("42", "0", 42)]
    public void Nvidia_smi_lines_are_read_as_device_and_busy_percent(string line, string device, int busy) =>
        Assert.Equal((device, busy), GpuSampler.Parse(line));

    [Theory]
    [InlineData("0, [N/A]")]
    [InlineData("0, 170")]
    [InlineData("NVIDIA-SMI has failed")]
    [InlineData("")]
    public void Nvidia_smi_lines_without_a_busy_percent_are_skipped(string line) => Assert.Null(GpuSampler.Parse(line));

    private static void AssertEveryJobSucceeded(LoadTestReport report)
    {
        Assert.True(report.ErrorCount == 0, "errors: " + string.Join("; ", report.ErrorSamples));
        Assert.Empty(report.Errors);
        Assert.Equal(Users * Jobs, report.JobsSucceeded);
        Assert.Equal(Users * Jobs, report.Images);
        Assert.Equal(Users * Jobs, report.Jobs.Select(j => j.JobId).Distinct().Count());
        Assert.Equal(from u in Enumerable.Range(0, Users) from j in Enumerable.Range(0, Jobs) select (u, j), report.Jobs.Select(j => (j.User, j.Job)));
        Assert.All(report.Jobs, j => Assert.Equal("Succeeded", j.State));
        Assert.All(report.Jobs, j => Assert.InRange(j.LatencyMs, 1, 180_000));
        Assert.Equal(Users * Jobs, report.Latency.Count);
        Assert.True(report.Latency.MinMs <= report.Latency.P50Ms && report.Latency.P50Ms <= report.Latency.P95Ms && report.Latency.P95Ms <= report.Latency.MaxMs);
        Assert.Equal(report.Jobs.Max(j => j.LatencyMs), report.Latency.MaxMs);
        Assert.True(report.ImagesPerSecond > 0);
        Assert.Equal(Users * Jobs, report.BatchSizes.Values.Sum()); // "absent" until the server reports batchSize
        // The server's own time per job (startedAt → finishedAt), within the client's latency.
        Assert.Equal(Users * Jobs, report.WorkerTime.Count);
        Assert.All(report.Jobs, j => Assert.InRange(j.WorkerMs!.Value, 0.001, j.LatencyMs));
        // The phases around it: the submission's round trip, the queue (createdAt → startedAt) and the answer
        // (finishedAt → seen; the app runs on this host's clock), which with the worker's time make up the latency.
        Assert.Equal((Users * Jobs, Users * Jobs, Users * Jobs), (report.SubmitTime.Count, report.QueueTime.Count, report.AnswerTime.Count));
        Assert.All(report.Jobs, j =>
        {
            Assert.InRange(j.SubmitMs!.Value, 0.001, j.LatencyMs);
            Assert.InRange(j.QueueMs!.Value, 0, j.LatencyMs);
            Assert.InRange(j.AnswerMs!.Value, -50, j.LatencyMs); // (DateTimeOffset.UtcNow's resolution, two processes)
            Assert.InRange(j.QueueMs!.Value + j.WorkerMs!.Value, 0, j.LatencyMs + 50);
        });
        Assert.Equal(report.Via == "rest" ? 30 : null, report.RestWaitSeconds);
    }

    public void Dispose()
    {
        if (File.Exists(_tokenFile)) File.Delete(_tokenFile);
    }
}
