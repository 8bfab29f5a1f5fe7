using System.CommandLine;
using DiffusionGallery.Inference.Abstractions;

namespace DiffusionGallery.Cli.Commands;

/// <summary><c>generate</c>: runs one request and writes PNGs with A1111 + JSON metadata.</summary>
internal static class GenerateCommand
{
    public static Command Create()
    {
        var engine = new EngineOptions();
        var request = new RequestOptions();
        var output = new Option<DirectoryInfo>("--out", "-o") { Description = "Output folder.", DefaultValueFactory = _ => new DirectoryInfo(".") };
        var command = new Command("generate", "Generate images (txt2img, or img2img with --init-image).");
        engine.AddTo(command);
        request.AddTo(command);
        command.Add(output);
        command.SetAction((parse, ct) => CommandErrors.RunAsync(async () =>
        {
            var (generator, model) = engine.CreateGenerator(parse);
            using (generator)
            {
                var req = request.Build(parse, model, generator.ResolveModel(model).Descriptor);
                var folder = parse.GetValue(output)!;
                folder.Create();
                var progress = new SynchronousProgress<GenerationProgress>(p =>
                {
                    Console.Error.Write($"\rstep {p.Step}/{p.TotalSteps}  t={p.Timestep:F1}  σ={p.Sigma:F3}  eta {p.EstimatedRemaining?.TotalSeconds:F1}s   ");
                    for (var i = 0; i < (p.Previews?.Count ?? 0); i++)
                        SavePreview(p.Previews![i], Path.Combine(folder.FullName, $"preview-{p.Step:D3}-{i}.png"));
                });
                var result = await generator.GenerateAsync(req, progress, ct);
                Console.Error.WriteLine();
                foreach (var image in result.Images)
                {
                    var path = Path.Combine(folder.FullName, $"{result.ModelName}-{unchecked((ulong)image.Seed)}.png");
                    await File.WriteAllBytesAsync(path, image.Png, ct);
                    Console.WriteLine(path);
                }

                if (result.PromptTokensTruncated > 0)
                    Console.Error.WriteLine($"warning: prompt truncated, {result.PromptTokensTruncated} tokens dropped");
                Console.Error.WriteLine($"{result.ModelName} ({result.ModelHash}) on {result.ExecutionProvider}, ONNX Runtime {result.RuntimeVersion}, " +
                                        $"total {result.StageTimings["total"].TotalMilliseconds:F0} ms");
                return 0;
            }
        }));
        return command;
    }

    private static void SavePreview(PreviewFrame frame, string path)
    {
        using var image = SixLabors.ImageSharp.Image.LoadPixelData<SixLabors.ImageSharp.PixelFormats.Rgb24>(frame.Rgb24, frame.Width, frame.Height);
        File.WriteAllBytes(path, DiffusionGallery.Inference.Imaging.PngWriter.Encode(image));
    }
}

/// <summary>An <see cref="IProgress{T}"/> that calls back on the reporting thread (no synchronization context hop).</summary>
internal sealed class SynchronousProgress<T>(Action<T> handler) : IProgress<T>
{
    public void Report(T value) => handler(value);
}
