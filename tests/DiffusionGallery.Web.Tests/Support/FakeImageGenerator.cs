using DiffusionGallery.Inference.Abstractions;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;

namespace DiffusionGallery.Web.Tests.Support;

/// <summary>
/// Unit-test stand-in for the engine: reports one distinct preview per step and returns a small PNG. Shares runs like
/// the engine (same <see cref="KeyOf"/>, up to <see cref="MaxImages"/> images; 1: every job alone), decodes a preview
/// only when the item's progress wants one (<see cref="IPreviewDemand"/>), and drops a cancelled item at the next step.
/// </summary>
internal sealed class FakeImageGenerator : IImageGenerator, IBatchImageGenerator
{
    public static readonly ModelDescriptor Model = new("tiny-shapes", "Tiny shapes", 128, 128, SamplerKind.DpmPlusPlus2M, false, 20, 7f, ["a red circle"]);

    public IReadOnlyList<ModelDescriptor> Models { get; set; } = [Model];
    public string ExecutionProvider => "CPU";
    public TimeSpan StepDelay { get; set; } = TimeSpan.Zero;
    public List<GenerationRequest> Requests { get; } = [];
    public Exception? FailWith { get; set; }
    /// <summary>Images one shared run may hold (at least the request's own).</summary>
    public int MaxImages { get; set; } = 1;
    /// <summary>An item with this prompt fails in post-processing; the others of its run do not.</summary>
    public string? FailPrompt { get; set; }
    /// <summary>An item with this prompt comes back with bytes that are no PNG (so storing its files fails).</summary>
    public string? CorruptPngPrompt { get; set; }
    /// <summary>Runs when a shared run's steps are done, before its outcomes are returned (between the engine and the save).</summary>
    public Func<IReadOnlyList<BatchItem>, Task>? AfterRun { get; set; }
    /// <summary>Each shared run's requests, in the order given.</summary>
    public List<IReadOnlyList<GenerationRequest>> Runs { get; } = [];
    private readonly Dictionary<string, int> _previewsDecoded = [];

    /// <summary>Previews decoded for the requests with this prompt.</summary>
    public int PreviewsDecoded(string prompt)
    {
        lock (_previewsDecoded) return _previewsDecoded.GetValueOrDefault(prompt);
    }

    public BatchKey KeyOf(GenerationRequest request) =>
        new(request.Model ?? Model.Name, request.Width, request.Height, request.Sampler, request.KarrasSigmas, request.Steps);

    public int MaxBatchImages(GenerationRequest request) => Math.Max(request.BatchSize, MaxImages);

    public async Task<IReadOnlyList<BatchItemOutcome>> GenerateBatchAsync(IReadOnlyList<BatchItem> items, CancellationToken cancellationToken)
    {
        if (items.Select(i => KeyOf(i.Request)).Distinct().Count() != 1) throw new ArgumentException("Items of one run must share a key.", nameof(items));
        lock (Requests)
        {
            Requests.AddRange(items.Select(i => i.Request));
            Runs.Add(items.Select(i => i.Request).ToList());
        }
        var shared = items.Sum(i => i.Request.BatchSize);
        var outcomes = new BatchItemOutcome?[items.Count];
        var steps = items[0].Request.Steps;
        for (var step = 1; step <= steps; step++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (StepDelay > TimeSpan.Zero) await Task.Delay(StepDelay, cancellationToken);
            for (var k = 0; k < items.Count; k++)
            {
                if (outcomes[k] is not null) continue;
                var item = items[k];
                if (item.CancellationToken.IsCancellationRequested)
                {
                    outcomes[k] = new BatchItemOutcome(null, new OperationCanceledException(item.CancellationToken));
                    continue;
                }
                var wants = item.Progress is not IPreviewDemand demand || demand.WantsPreview(step, steps);
                if (wants)
                {
                    lock (_previewsDecoded) _previewsDecoded[item.Request.Prompt] = _previewsDecoded.GetValueOrDefault(item.Request.Prompt) + 1;
                }
                var pixels = Enumerable.Repeat((byte)(step * 10 % 256), 16 * 16 * 3).ToArray();
                item.Progress?.Report(new GenerationProgress(step, steps, 999 - step, 1.0 / step, TimeSpan.FromMilliseconds(10 * step),
                    TimeSpan.FromMilliseconds(10 * (steps - step)), wants ? [new PreviewFrame(16, 16, pixels)] : null));
            }
        }
        if (FailWith is not null) throw FailWith;
        for (var k = 0; k < items.Count; k++)
        {
            outcomes[k] ??= items[k].Request.Prompt == FailPrompt
                ? new BatchItemOutcome(null, new InvalidOperationException("post-processing failed"))
                : new BatchItemOutcome(Result(items[k].Request, corrupt: items[k].Request.Prompt == CorruptPngPrompt) with { SharedBatchSize = shared }, null);
        }
        if (AfterRun is not null) await AfterRun(items);
        return outcomes.Select(o => o!).ToList();
    }

    public void Validate(GenerationRequest request)
    {
        if (request.Steps > 150) throw new InvalidGenerationRequestException("engine: too many steps");
    }

    public async Task<GenerationResult> GenerateAsync(GenerationRequest request, IProgress<GenerationProgress>? progress, CancellationToken cancellationToken)
    {
        lock (Requests) Requests.Add(request);
        for (var step = 1; step <= request.Steps; step++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (StepDelay > TimeSpan.Zero) await Task.Delay(StepDelay, cancellationToken);
            var pixels = Enumerable.Repeat((byte)(step * 10 % 256), 16 * 16 * 3).ToArray();
            progress?.Report(new GenerationProgress(step, request.Steps, 999 - step, 1.0 / step, TimeSpan.FromMilliseconds(10 * step),
                TimeSpan.FromMilliseconds(10 * (request.Steps - step)), [new PreviewFrame(16, 16, pixels)]));
        }
        if (FailWith is not null) throw FailWith;
        return Result(request);
    }

    private static GenerationResult Result(GenerationRequest request, bool corrupt = false)
    {
        var images = Enumerable.Range(0, request.BatchSize).Select(i =>
        {
            var seed = request.Seed + i;
            var text = $"{request.Prompt}\nSteps: {request.Steps}, Seed: {seed}, Size: {request.Width}x{request.Height}";
            var png = corrupt ? "not a png"u8.ToArray() : Png(request.Width, request.Height);
            return new GenerationOutput(seed, request.Width, request.Height, png, text);
        }).ToList();
        return new GenerationResult(images, request.Model ?? Model.Name, "abc123", "CPU", "fake", new Dictionary<string, TimeSpan>());
    }

    public static byte[] Png(int width, int height)
    {
        using var image = new Image<Rgb24>(width, height, new Rgb24(200, 30, 30));
        using var stream = new MemoryStream();
        image.SaveAsPng(stream);
        return stream.ToArray();
    }
}
