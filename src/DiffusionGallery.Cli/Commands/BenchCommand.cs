using System.CommandLine;
using System.Text.Json;
using DiffusionGallery.Inference.Abstractions;
using DiffusionGallery.Inference.Pipeline;

namespace DiffusionGallery.Cli.Commands;

/// <summary><c>bench</c>: warm-up plus N timed runs; per-stage means and the share of time outside ONNX Runtime calls.</summary>
internal static class BenchCommand
{
    public static Command Create()
    {
        var engine = new EngineOptions();
        var request = new RequestOptions();
        var warmup = new Option<int>("--warmup") { Description = "Untimed warm-up runs.", DefaultValueFactory = _ => 2 };
        var runs = new Option<int>("--runs") { Description = "Timed runs.", DefaultValueFactory = _ => 5 };
        var json = new Option<FileInfo>("--json") { Description = "Also write the figures as JSON to this file." };
        var shared = new Option<int>("--shared") { Description = "Instead: N one-image requests (different prompts, seeds, CFG) as one shared run vs one after another; prints images/s of both.", DefaultValueFactory = _ => 0 };
        var command = new Command("bench", "Benchmark generation: per-stage timings and time spent outside ONNX Runtime.");
        engine.AddTo(command);
        request.AddTo(command);
        command.Add(warmup);
        command.Add(runs);
        command.Add(json);
        command.Add(shared);
        command.SetAction((parse, ct) => CommandErrors.RunAsync(async () =>
        {
            var (generator, model) = engine.CreateGenerator(parse);
            using (generator)
            {
                var req = request.Build(parse, model, generator.ResolveModel(model).Descriptor);
                var runCount = Math.Max(1, parse.GetValue(runs));
                if (parse.GetValue(shared) is > 0 and var users)
                {
                    var requests = SharedRunBench.Requests(req, generator.ResolveModel(model).Descriptor, users);
                    return await SharedRunBench.RunAsync(generator, requests, parse.GetValue(warmup), runCount, ct);
                }

                for (var i = 0; i < parse.GetValue(warmup); i++)
                    await generator.GenerateAsync(req, null, ct);
                var results = new List<GenerationResult>();
                for (var i = 0; i < runCount; i++)
                    results.Add(await generator.GenerateAsync(req, null, ct));

                var report = BenchReport.From(results, req, Environment.ProcessorCount);
                Console.WriteLine(report.ToTable());
                if (parse.GetValue(json) is { } file)
                {
                    await File.WriteAllTextAsync(file.FullName, JsonSerializer.Serialize(report, BenchReport.JsonOptions), ct);
                    Console.Error.WriteLine($"wrote {file.FullName}");
                }

                return 0;
            }
        }));
        return command;
    }
}

/// <summary>Mean stage timings over the timed runs, in milliseconds.</summary>
internal sealed record BenchReport(
    string Model,
    string ModelHash,
    string Provider,
    string RuntimeVersion,
    string Sampler,
    int Steps,
    float Guidance,
    int Width,
    int Height,
    int Batch,
    int Runs,
    int LogicalCpus,
    IReadOnlyDictionary<string, double> MeanMilliseconds,
    double UnetPerStepMilliseconds,
    double OnnxRuntimeMilliseconds,
    double OutsideOnnxRuntimeMilliseconds,
    double OutsideOnnxRuntimeShare,
    double ImagesPerSecond)
{
    public static readonly JsonSerializerOptions JsonOptions = new() { WriteIndented = true, PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower };

    public static BenchReport From(IReadOnlyList<GenerationResult> results, GenerationRequest request, int cpus)
    {
        var stages = results.SelectMany(r => r.StageTimings.Keys).Distinct().ToList();
        var mean = stages.ToDictionary(s => s, s => results.Average(r => r.StageTimings.GetValueOrDefault(s).TotalMilliseconds));
        var total = mean[StageTimings.Total];
        var onnx = StageTimings.OnnxStages.Sum(s => mean.GetValueOrDefault(s));
        var first = results[0];
        return new BenchReport(first.ModelName, first.ModelHash, first.ExecutionProvider, first.RuntimeVersion, request.Sampler.ToString(),
            request.Steps, request.GuidanceScale, request.Width, request.Height, request.BatchSize, results.Count, cpus, mean,
            mean.GetValueOrDefault(StageTimings.Unet) / Math.Max(1, first.StepsRun), onnx, total - onnx, (total - onnx) / total,
            request.BatchSize / (total / 1000.0));
    }

    public string ToTable()
    {
        var order = new[]
        {
            StageTimings.Tokenize, StageTimings.TextEncoder, StageTimings.VaeEncode, StageTimings.Unet, StageTimings.Scheduler,
            StageTimings.Noise, StageTimings.TensorIo, StageTimings.Preview, StageTimings.VaeDecode, StageTimings.PngEncode, StageTimings.Total,
        };
        var lines = new List<string>
        {
            $"{Model} ({ModelHash}) on {Provider}, ONNX Runtime {RuntimeVersion}, {LogicalCpus} logical CPUs",
            $"{Sampler}, {Steps} steps, CFG {Guidance}, {Width}x{Height}, batch {Batch}, mean of {Runs} runs",
            "",
            $"{"stage",-16} {"ms",10} {"share",8}",
        };
        var total = MeanMilliseconds[StageTimings.Total];
        foreach (var stage in order)
        {
            if (MeanMilliseconds.TryGetValue(stage, out var ms))
                lines.Add($"{stage,-16} {ms,10:F2} {ms / total,8:P1}");
        }

        lines.Add("");
        lines.Add($"{"unet per step",-16} {UnetPerStepMilliseconds,10:F2}");
        lines.Add($"{"inside ORT",-16} {OnnxRuntimeMilliseconds,10:F2} {OnnxRuntimeMilliseconds / total,8:P1}");
        lines.Add($"{"outside ORT",-16} {OutsideOnnxRuntimeMilliseconds,10:F2} {OutsideOnnxRuntimeShare,8:P1}");
        lines.Add($"{"images/s",-16} {ImagesPerSecond,10:F2}");
        return string.Join(Environment.NewLine, lines);
    }
}
