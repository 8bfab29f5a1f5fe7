using System.Diagnostics;
using DiffusionGallery.Inference.Abstractions;
using DiffusionGallery.Inference.Pipeline;

namespace DiffusionGallery.Cli.Commands;

/// <summary>
/// <c>bench --shared N</c>: N one-image requests (different prompts, seeds and CFG, as from N users) run as one shared
/// run (<see cref="IBatchImageGenerator.GenerateBatchAsync"/>) and one after another; images/s of both.
/// </summary>
internal static class SharedRunBench
{
    public static IReadOnlyList<GenerationRequest> Requests(GenerationRequest template, ModelDescriptor model, int count)
    {
        var prompts = model.ExamplePrompts.Count > 0 ? model.ExamplePrompts : [template.Prompt];
        return Enumerable.Range(0, count).Select(i => template with
        {
            Prompt = prompts[i % prompts.Count],
            Seed = template.Seed + 1000L * i,
            BatchSize = 1,
            // Every third user turns CFG off (one UNet row instead of two); the others vary around the chosen scale.
            GuidanceScale = i % 3 == 2 ? 1f : Math.Clamp(template.GuidanceScale + (i % 3) - 0.5f, 0f, RequestValidator.MaxGuidance),
            PreviewInterval = 0,
        }).ToList();
    }

    /// <summary>
    /// Where a shared run's time went: the stages its members shared (largest figure: the run's) and the sum of those each
    /// ran alone; "host in loop" is the step loop's wall time that was neither UNet nor tensor copies.
    /// </summary>
    private static string Stages(IReadOnlyList<IReadOnlyDictionary<string, TimeSpan>> timings)
    {
        double Max(string stage) => timings.Max(t => t.TryGetValue(stage, out var v) ? v.TotalMilliseconds : 0);
        double Sum(string stage) => timings.Sum(t => t.TryGetValue(stage, out var v) ? v.TotalMilliseconds : 0);
        var (loop, unet, io) = (Max(StageTimings.Loop), Max(StageTimings.Unet), Max(StageTimings.TensorIo));
        return $"loop {loop:F1} (host in loop {loop - unet - io:F1}: advance {Max(StageTimings.Advance):F1}, leave {Max(StageTimings.Leave):F1}), unet {unet:F1}, tensor_io {io:F1}, "
            + $"text_encoder {Max(StageTimings.TextEncoder):F1}; "
            + $"summed over members: scheduler {Sum(StageTimings.Scheduler):F1}, preview {Sum(StageTimings.Preview):F1}, noise {Sum(StageTimings.Noise):F1}, "
            + $"vae_decode {Sum(StageTimings.VaeDecode):F1}, png_encode {Sum(StageTimings.PngEncode):F1}";
    }

    public static async Task<int> RunAsync(DiffusionImageGenerator generator, IReadOnlyList<GenerationRequest> requests, int warmup, int runs, CancellationToken ct)
    {
        var items = requests.Select(r => new BatchItem(r, null, ct)).ToList();
        for (var i = 0; i < warmup; i++)
        {
            await generator.GenerateBatchAsync(items, ct);
            foreach (var r in requests)
                await generator.GenerateAsync(r, null, ct);
        }

        double shared = 0, sequential = 0;
        var largest = 0;
        IReadOnlyList<BatchItemOutcome> last = [];
        for (var run = 0; run < runs; run++)
        {
            var started = Stopwatch.GetTimestamp();
            var outcomes = await generator.GenerateBatchAsync(items, ct);
            shared += Stopwatch.GetElapsedTime(started).TotalSeconds;
            if (outcomes.FirstOrDefault(o => o.Error is not null) is { } failed)
                throw failed.Error!;
            largest = outcomes.Max(o => o.Result!.SharedBatchSize);
            last = outcomes;

            started = Stopwatch.GetTimestamp();
            foreach (var r in requests)
                await generator.GenerateAsync(r, null, ct);
            sequential += Stopwatch.GetElapsedTime(started).TotalSeconds;
        }

        var images = requests.Count * (double)runs;
        var first = requests[0];
        Console.WriteLine($"{requests.Count} one-image requests (different prompts, seeds, CFG), {first.Sampler}, {first.Steps} steps, "
            + $"{first.Width}x{first.Height} on {generator.ExecutionProvider}, {runs} runs (MaxBatchImages {generator.MaxBatchImages(first)}):");
        Console.WriteLine($"{"shared run",-16} {images / shared,10:F2} images/s  (largest UNet call: {largest} images)");
        Console.WriteLine($"{"one by one",-16} {images / sequential,10:F2} images/s");
        Console.WriteLine($"{"speed-up",-16} {sequential / shared,10:F2}x");
        Console.WriteLine($"last shared run, ms: {Stages(last.Select(o => o.Result!.StageTimings).ToList())}");
        return 0;
    }
}
