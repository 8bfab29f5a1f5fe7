using System.CommandLine;
using DiffusionGallery.Inference.Onnx;

namespace DiffusionGallery.Cli.Commands;

/// <summary><c>info</c>: loads and validates a model folder and lists its graphs, tensors and sizes.</summary>
internal static class InfoCommand
{
    public static Command Create()
    {
        var engine = new EngineOptions();
        var command = new Command("info", "Describe a model folder: graphs, inputs/outputs, sizes, scheduler and extras.");
        engine.AddTo(command);
        command.SetAction((parse, ct) => CommandErrors.RunAsync(async () =>
        {
            var (generator, name) = engine.CreateGenerator(parse, verbose: false);
            using (generator)
            {
                var info = generator.ResolveModel(name);
                var model = await generator.LoadModelAsync(info.Name, ct);
                var d = info.Descriptor;
                Console.WriteLine($"model      {info.Name} ({d.DisplayName})  folder {info.Folder}");
                Console.WriteLine($"hash       {model.ContentHash}");
                Console.WriteLine($"provider   {model.ExecutionProvider}, ONNX Runtime {SessionFactory.RuntimeVersion}");
                Console.WriteLine($"size       native {d.NativeWidth}x{d.NativeHeight}, max {info.MaxWidth}x{info.MaxHeight}, VAE scaling {info.ScalingFactor}");
                Console.WriteLine($"scheduler  {info.Scheduler.ClassName ?? "(default)"}: {info.Scheduler.BetaSchedule} {info.Scheduler.BetaStart}→{info.Scheduler.BetaEnd}, " +
                                  $"T={info.Scheduler.NumTrainTimesteps}, offset {info.Scheduler.StepsOffset}, {info.Scheduler.PredictionType}, spacing {info.Scheduler.TimestepSpacing ?? "per-sampler default"}");
                Console.WriteLine($"recommend  {d.RecommendedSampler}{(d.RecommendedKarras ? " Karras" : "")}, {d.RecommendedSteps} steps, CFG {d.RecommendedGuidance}; LCM: {model.IsLcm}");
                foreach (var graph in new[] { model.TextEncoder, model.Unet, model.VaeDecoder, model.VaeEncoder })
                {
                    if (graph is null)
                        continue;
                    Console.WriteLine();
                    Console.WriteLine($"{graph.RelativePath}  ({graph.FileBytes / 1024.0 / 1024.0:F2} MiB)");
                    foreach (var (n, meta) in graph.Inputs)
                        Console.WriteLine($"  in   {n,-24} {TensorText.ElementType(meta.ElementDataType),-8} [{TensorText.Shape(meta)}]");
                    foreach (var (n, meta) in graph.Outputs)
                        Console.WriteLine($"  out  {n,-24} {TensorText.ElementType(meta.ElementDataType),-8} [{TensorText.Shape(meta)}]");
                }

                return 0;
            }
        }));
        return command;
    }
}
