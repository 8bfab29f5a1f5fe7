namespace DiffusionGallery.LoadTest;

/// <summary>The body of one submission (POST /api/generations or the hub's Submit); camelCase on the wire.</summary>
public sealed record GenerateRequest(string Prompt, string NegativePrompt, string? Model, int Steps, float GuidanceScale, int? Width, int? Height, long Seed);

/// <summary>
/// Varied requests so that jobs differ (prompt, negative prompt, seed, CFG) while keeping what a batching worker
/// groups by (model, size, sampler, steps) the same, as real users of one model would.
/// </summary>
public sealed class PromptCatalog
{
    public const string BuiltInName = "shapes";

    private static readonly string[] Colours = ["red", "green", "blue", "yellow", "purple", "orange", "white", "black"];
    private static readonly string[] Shapes = ["circle", "square", "triangle"];
    private static readonly string[] Negatives = ["", "blurry", "black background", "small"];
    private static readonly float[] Guidance = [5f, 6f, 7f, 7.5f, 8f];

    private readonly IReadOnlyList<string> _prompts;
    private readonly LoadTestOptions _options;

    private PromptCatalog(IReadOnlyList<string> prompts, LoadTestOptions options) => (_prompts, _options) = (prompts, options);

    public IReadOnlyList<string> Prompts => _prompts;

    public static PromptCatalog Load(LoadTestOptions options)
    {
        if (options.PromptSet.Equals(BuiltInName, StringComparison.OrdinalIgnoreCase)) return new(BuiltIn(), options);
        if (!File.Exists(options.PromptSet)) throw new ArgumentException($"--prompt-set: '{options.PromptSet}' is neither '{BuiltInName}' nor a file.");
        var prompts = File.ReadAllLines(options.PromptSet).Select(l => l.Trim()).Where(l => l.Length > 0 && !l.StartsWith('#')).ToList();
        return prompts.Count > 0 ? new(prompts, options) : throw new ArgumentException($"--prompt-set: '{options.PromptSet}' has no prompts.");
    }

    private static List<string> BuiltIn() =>
        [.. from shape in Shapes from fg in Colours from bg in Colours where fg != bg select $"a {fg} {shape} on a {bg} background"];

    /// <summary>The request of a user's n-th job (user -1: warm-up): deterministic, and different for every (user, job) pair.</summary>
    public GenerateRequest For(int user, int job)
    {
        return new(_prompts[Mod(user * 7919L + job * 104_729L, _prompts.Count)], Negatives[Mod(user + job, Negatives.Length)], _options.Model, _options.Steps,
            Guidance[Mod(user * 3L + job, Guidance.Length)], _options.Width, _options.Height, Seed: 1_000_000L + (user + 1) * 100_003L + job);
    }

    private static int Mod(long value, int count) => (int)(((value % count) + count) % count);
}
