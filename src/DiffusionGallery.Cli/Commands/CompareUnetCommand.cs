using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using DiffusionGallery.Inference;
using DiffusionGallery.Inference.Onnx;

namespace DiffusionGallery.Cli.Commands;

/// <summary>
/// <c>compare-unet</c>: output difference of UNet variants (fp16, optimised) from the fp32 reference on fixed inputs
/// (<see cref="UnetComparison"/>), on CUDA where available — the issue-13 check that an fp16 export stays within 1e-2.
/// </summary>
internal static class CompareUnetCommand
{
    public static Command Create()
    {
        var reference = new Option<FileInfo>("--ref") { Description = "The reference UNet graph (fp32 model.onnx).", Required = true };
        var candidates = new Option<string[]>("--cand")
        {
            Description = "A variant to compare, NAME=PATH (repeatable).", Required = true, AllowMultipleArgumentsPerToken = false,
        };
        var provider = new Option<ExecutionProviderPreference>("--provider") { Description = "Auto, Cuda or Cpu.", DefaultValueFactory = _ => ExecutionProviderPreference.Auto };
        var device = new Option<int>("--device") { Description = "CUDA device id.", DefaultValueFactory = _ => 0 };
        var batch = new Option<int>("--batch") { Description = "UNet batch (2 = one CFG step of one image).", DefaultValueFactory = _ => 2 };
        var latent = new Option<int>("--latent") { Description = "Latent side (64 = a 512² image).", DefaultValueFactory = _ => 64 };
        var json = new Option<FileInfo?>("--json") { Description = "Also write the figures as JSON." };
        var command = new Command("compare-unet", "Output difference of UNet variants (fp16, optimised) from an fp32 reference on fixed inputs.")
        {
            reference, candidates, provider, device, batch, latent, json,
        };
        command.SetAction((parse, ct) => CommandErrors.RunAsync(() =>
        {
            var pairs = new List<(string Name, string Path)>();
            foreach (var text in parse.GetValue(candidates)!)
            {
                var split = text.IndexOf('=', StringComparison.Ordinal);
                if (split <= 0 || split == text.Length - 1)
                {
                    Console.Error.WriteLine($"error: --cand '{text}' is not NAME=PATH.");
                    return Task.FromResult(CommandErrors.InvalidInput);
                }

                pairs.Add((text[..split], text[(split + 1)..]));
            }

            var sessions = new SessionFactory(new InferenceOptions
            {
                ModelsRoot = ".", Provider = parse.GetValue(provider), DeviceId = parse.GetValue(device),
                Log = message => Console.Error.WriteLine($"[engine] {message}"),
            });
            IReadOnlyList<UnetDifference> results;
            try
            {
                results = UnetComparison.Compare(sessions, parse.GetValue(reference)!.FullName, pairs, parse.GetValue(batch), parse.GetValue(latent));
            }
            catch (FileNotFoundException ex)
            {
                Console.Error.WriteLine($"error: {ex.Message}");
                return Task.FromResult(CommandErrors.InvalidInput);
            }

            var c = CultureInfo.InvariantCulture;
            Console.WriteLine($"reference {parse.GetValue(reference)!.FullName} on {sessions.Provider}; max |reference| {results.FirstOrDefault()?.MaxAbsReference.ToString("G4", c)}");
            Console.WriteLine("candidate             max |diff|     relative L2   finite   ms");
            foreach (var r in results)
            {
                Console.WriteLine(r.Error is null
                    ? string.Create(c, $"{r.Name,-20} {r.MaxAbsDiff,12:G4} {r.RelativeL2,13:G4}   {(r.Finite ? "yes" : "NO"),-6} {r.Milliseconds,6:F2}")
                    : $"{r.Name,-20} error: {r.Error}");
            }

            if (parse.GetValue(json) is { } file)
            {
                var document = new Dictionary<string, object>
                {
                    ["reference"] = parse.GetValue(reference)!.FullName,
                    ["provider"] = sessions.Provider,
                    ["candidates"] = results.ToDictionary(r => r.Name, r => (object)(r.Error is null
                        ? new Dictionary<string, object> { ["max_abs_diff"] = r.MaxAbsDiff, ["max_abs_reference"] = r.MaxAbsReference, ["rel_l2"] = r.RelativeL2, ["finite"] = r.Finite, ["ms"] = r.Milliseconds }
                        : new Dictionary<string, object> { ["error"] = r.Error })),
                };
                File.WriteAllText(file.FullName, JsonSerializer.Serialize(document, new JsonSerializerOptions { WriteIndented = true }));
            }

            return Task.FromResult(0);
        }));
        return command;
    }
}
