using DiffusionGallery.Inference.Abstractions;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;

namespace DiffusionGallery.Web.Tests.Support;

/// <summary>Unit-test stand-in for the engine: reports one distinct preview per step and returns a small PNG.</summary>
internal sealed class FakeImageGenerator : IImageGenerator
{
    public static readonly ModelDescriptor Model = new("tiny-shapes", "Tiny shapes", 128, 128, SamplerKind.DpmPlusPlus2M, false, 20, 7f, ["a red circle"]);

    public IReadOnlyList<ModelDescriptor> Models { get; set; } = [Model];
    public string ExecutionProvider => "CPU";
    public TimeSpan StepDelay { get; set; } = TimeSpan.Zero;
    public List<GenerationRequest> Requests { get; } = [];
    public Exception? FailWith { get; set; }

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
        var images = Enumerable.Range(0, request.BatchSize).Select(i =>
        {
            var seed = request.Seed + i;
            var text = $"{request.Prompt}\nSteps: {request.Steps}, Seed: {seed}, Size: {request.Width}x{request.Height}";
            return new GenerationOutput(seed, request.Width, request.Height, Png(request.Width, request.Height), text);
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
