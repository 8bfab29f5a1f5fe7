namespace DiffusionGallery.Inference.Models;

/// <summary>A model folder that does not fit the contract (DESIGN.md §2): names the file and, where relevant, the tensor.</summary>
public sealed class ModelLoadException : Exception
{
    public ModelLoadException(string model, string file, string? tensor, string problem, Exception? inner = null)
        : base(Compose(model, file, tensor, problem), inner)
    {
        Model = model;
        File = file;
        Tensor = tensor;
    }

    public string Model { get; }
    /// <summary>Path of the offending file, relative to the model folder.</summary>
    public string File { get; }
    public string? Tensor { get; }

    private static string Compose(string model, string file, string? tensor, string problem) =>
        tensor is null
            ? $"Model '{model}': {file}: {problem}"
            : $"Model '{model}': {file}: tensor '{tensor}': {problem}";
}
