using System.CommandLine;
using DiffusionGallery.Cli.Commands;

var root = new RootCommand("DiffusionGallery: text-to-image on ONNX Runtime from the command line.")
{
    GenerateCommand.Create(),
    BenchCommand.Create(),
    InfoCommand.Create(),
    MetadataCommand.Create(),
    CompareUnetCommand.Create(),
};

return await root.Parse(args).InvokeAsync();
