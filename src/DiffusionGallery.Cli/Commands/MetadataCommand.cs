using System.CommandLine;
using DiffusionGallery.Inference.Metadata;

namespace DiffusionGallery.Cli.Commands;

/// <summary><c>metadata</c>: prints the A1111 parameters (and our JSON) of a PNG.</summary>
internal static class MetadataCommand
{
    public static Command Create()
    {
        var file = new Argument<FileInfo>("file") { Description = "PNG, JPEG or WebP file." };
        var json = new Option<bool>("--json") { Description = "Also print the diffusion_gallery JSON chunk and all other text chunks." };
        var command = new Command("metadata", "Print the generation parameters of a PNG (or an A1111 JPEG/WebP).") { file, json };
        command.SetAction((parse, ct) => CommandErrors.RunAsync(async () =>
        {
            var bytes = await File.ReadAllBytesAsync(parse.GetValue(file)!.FullName, ct);
            var metadata = ImageMetadataReader.Read(bytes);
            if (metadata.Parameters is null && metadata.Generation is null)
            {
                Console.Error.WriteLine("no generation parameters found");
                return 1;
            }

            if (metadata.Parameters is not null)
                Console.WriteLine(metadata.Parameters.ToString());
            if (parse.GetValue(json))
            {
                foreach (var (keyword, text) in metadata.TextChunks.Where(c => c.Key != PngMetadata.ParametersKeyword))
                    Console.WriteLine($"\n[{keyword}]\n{text}");
            }

            return 0;
        }));
        return command;
    }
}
