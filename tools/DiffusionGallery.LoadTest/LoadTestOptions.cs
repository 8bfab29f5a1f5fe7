using System.Globalization;

namespace DiffusionGallery.LoadTest;

/// <summary>How jobs are submitted and awaited.</summary>
public enum Transport
{
    /// <summary>
    /// POST /api/generations, then GET /api/generations/{id}?wait=<see cref="LoadTestOptions.RestWaitSeconds"/> (a long poll)
    /// until it has finished, or (wait 0) every <see cref="LoadTestOptions.PollInterval"/>.
    /// </summary>
    Rest,
    /// <summary>The hub's Submit, then the job's JobUpdated messages (no polling).</summary>
    Hub,
}

/// <summary>One load-test run: who, how many, how, and what each job asks for.</summary>
public sealed record LoadTestOptions
{
    public required Uri Url { get; init; }
    public int Users { get; init; } = 1;
    /// <summary>Jobs per user, submitted one after another (submit, wait until finished, next) in each of <see cref="Depth"/> lanes.</summary>
    public int JobsPerUser { get; init; } = 10;
    /// <summary>
    /// Jobs each user keeps in flight: 1 = a person who waits for each image before asking again; more = a client that
    /// queues work ahead (like scripts/api-smoke.py, which submits all its jobs first): lane k submits jobs k, k+D, …
    /// </summary>
    public int Depth { get; init; } = 1;
    /// <summary>User k starts k times this much after the first (0: all at once, in phase); puts users out of phase.</summary>
    public TimeSpan Stagger { get; init; }
    public Transport Via { get; init; } = Transport.Rest;
    public int Steps { get; init; } = 25;
    /// <summary>Null: the model's native size.</summary>
    public int? Width { get; init; }
    public int? Height { get; init; }
    /// <summary>"shapes" (built in) or a file with one prompt per line.</summary>
    public string PromptSet { get; init; } = PromptCatalog.BuiltInName;
    /// <summary>Null: the server's default model.</summary>
    public string? Model { get; init; }
    /// <summary>Personal access tokens, one per line; missing ones are created (registered) and appended.</summary>
    public string? TokenFile { get; init; }
    /// <summary>Timed users are the token file's lines 2+K … 1+K+N (line 1 is the warm-up user), so runs can use disjoint users.</summary>
    public int UserOffset { get; init; }
    public string? JsonOut { get; init; }
    public bool GpuSample { get; init; }
    /// <summary>Untimed jobs run first by one user (model load, first-call costs).</summary>
    public int Warmup { get; init; } = 1;
    /// <summary>Download each finished job's PNG and check its signature (costs server work; off for throughput runs).</summary>
    public bool VerifyImages { get; init; }
    public TimeSpan PollInterval { get; init; } = TimeSpan.FromMilliseconds(50);
    /// <summary>REST: the long poll's <c>?wait=</c> in seconds (1–30); 0 polls every <see cref="PollInterval"/> instead (servers without it).</summary>
    public int RestWaitSeconds { get; init; } = 30;
    public TimeSpan JobTimeout { get; init; } = TimeSpan.FromMinutes(5);

    public void Validate()
    {
        if (!Url.IsAbsoluteUri || Url.Scheme is not ("http" or "https")) throw new ArgumentException("--url must be an absolute http(s) address.");
        if (Users is < 1 or > 10_000) throw new ArgumentException("--users must be between 1 and 10000.");
        if (JobsPerUser is < 1 or > 1_000_000) throw new ArgumentException("--jobs must be at least 1.");
        if (Depth < 1 || Depth > JobsPerUser) throw new ArgumentException("--depth must be between 1 and --jobs.");
        if (Stagger < TimeSpan.Zero || Stagger > TimeSpan.FromMinutes(1)) throw new ArgumentException("--stagger-ms must be between 0 and 60000.");
        if (Steps is < 1 or > 1000) throw new ArgumentException("--steps must be between 1 and 1000.");
        if (Width is < 8 || Height is < 8) throw new ArgumentException("--width and --height must be at least 8.");
        if (Warmup < 0) throw new ArgumentException("--warmup cannot be negative.");
        if (UserOffset < 0) throw new ArgumentException("--user-offset cannot be negative.");
        if (PollInterval <= TimeSpan.Zero) throw new ArgumentException("--poll-ms must be positive.");
        if (RestWaitSeconds is < 0 or > 30) throw new ArgumentException("--rest-wait must be between 0 and 30 seconds.");
    }

    public const string Usage = """
        dg-loadtest --url http://host:port [options]
          --users N          concurrent users (default 1)
          --jobs M           jobs per user, one after another (default 10)
          --depth D          jobs each user keeps in flight (default 1: wait for each before the next)
          --stagger-ms MS    user k starts k*MS after the first (default 0: all at once)
          --via rest|hub     REST submit + long poll (GET ?wait=), or hub submit + JobUpdated (default rest)
          --steps S          sampling steps (default 25)
          --width W --height H   image size (default: the model's native size)
          --prompt-set NAME|FILE  'shapes' (built in) or a file, one prompt per line; seeds and CFG vary per job
          --model NAME       model (default: the server's default)
          --token-file PATH  personal access tokens, one per line; missing users are registered and their tokens appended
          --user-offset K    timed users are lines 2+K..1+K+N of the token file (line 1: the warm-up user); default 0
          --warmup K         untimed jobs by the warm-up user before the run (default 1)
          --verify-images    download every PNG and check it
          --rest-wait S      REST long poll: GET /api/generations/{id}?wait=S (0-30, default 30; 0 = --poll)
          --poll             REST: poll every --poll-ms instead of the long poll (servers without ?wait=)
          --poll-ms MS       REST poll interval with --poll (default 50)
          --timeout-s S      per-job limit (default 300)
          --gpu-sample       sample nvidia-smi utilization.gpu every 100 ms, report the mean
          --json PATH        write the report as JSON
        """;

    /// <summary>Parses the command line; throws <see cref="ArgumentException"/> with a clear message on bad input.</summary>
    public static LoadTestOptions Parse(IReadOnlyList<string> args)
    {
        Uri? url = null;
        var options = new LoadTestOptions { Url = new Uri("http://127.0.0.1/") };
        for (var i = 0; i < args.Count; i++)
        {
            var name = args[i];
            string Value() => i + 1 < args.Count ? args[++i] : throw new ArgumentException($"{name} needs a value.");
            int Int() => int.TryParse(Value(), NumberStyles.Integer, CultureInfo.InvariantCulture, out var n) ? n : throw new ArgumentException($"{name} needs a whole number.");
            options = name switch
            {
                "--url" => options with { Url = url = Uri.TryCreate(Value(), UriKind.Absolute, out var u) ? u : throw new ArgumentException("--url must be an absolute address.") },
                "--users" => options with { Users = Int() },
                "--jobs" => options with { JobsPerUser = Int() },
                "--depth" => options with { Depth = Int() },
                "--stagger-ms" => options with { Stagger = TimeSpan.FromMilliseconds(Int()) },
                "--via" => options with { Via = Value().ToLowerInvariant() switch { "rest" => Transport.Rest, "hub" => Transport.Hub, _ => throw new ArgumentException("--via must be rest or hub.") } },
                "--steps" => options with { Steps = Int() },
                "--width" => options with { Width = Int() },
                "--height" => options with { Height = Int() },
                "--prompt-set" => options with { PromptSet = Value() },
                "--model" => options with { Model = Value() },
                "--token-file" => options with { TokenFile = Value() },
                "--user-offset" => options with { UserOffset = Int() },
                "--json" => options with { JsonOut = Value() },
                "--warmup" => options with { Warmup = Int() },
                "--verify-images" => options with { VerifyImages = true },
                "--gpu-sample" => options with { GpuSample = true },
                "--poll-ms" => options with { PollInterval = TimeSpan.FromMilliseconds(Int()) },
                "--poll" => options with { RestWaitSeconds = 0 },
                "--rest-wait" => options with { RestWaitSeconds = Int() },
                "--timeout-s" => options with { JobTimeout = TimeSpan.FromSeconds(Int()) },
                _ => throw new ArgumentException($"Unknown option {name}."),
            };
        }
        if (url is null) throw new ArgumentException("--url is required.");
        options.Validate();
        return options;
    }
}
