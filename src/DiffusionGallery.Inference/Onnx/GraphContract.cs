using DiffusionGallery.Inference.Models;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;

namespace DiffusionGallery.Inference.Onnx;

/// <summary>What one input or output must look like.</summary>
internal sealed record TensorRequirement(string Name, int[] Ranks, TensorElementType[] Types, bool Optional = false);

/// <summary>The I/O contract of one graph of the diffusers ONNX layout (DESIGN.md §2).</summary>
internal sealed record GraphContract(string File, TensorRequirement[] Inputs, TensorRequirement[] Outputs)
{
    private static readonly TensorElementType[] Floats = [TensorElementType.Float, TensorElementType.Float16];
    private static readonly TensorElementType[] Ids = [TensorElementType.Int32, TensorElementType.Int64];
    private static readonly TensorElementType[] Timesteps = [TensorElementType.Float, TensorElementType.Float16, TensorElementType.Int64];

    public static GraphContract TextEncoder { get; } = new("text_encoder/model.onnx",
        [new("input_ids", [2], Ids)],
        [new("last_hidden_state", [3], Floats)]);

    public static GraphContract Unet { get; } = new("unet/model.onnx",
        [
            new("sample", [4], Floats),
            new("timestep", [0, 1], Timesteps),
            new("encoder_hidden_states", [3], Floats),
            new("timestep_cond", [2], Floats, Optional: true),
        ],
        [new("out_sample", [4], Floats)]);

    public static GraphContract VaeDecoder { get; } = new("vae_decoder/model.onnx",
        [new("latent_sample", [4], Floats)],
        [new("sample", [4], Floats)]);

    public static GraphContract VaeEncoder { get; } = new("vae_encoder/model.onnx",
        [new("sample", [4], Floats)],
        [new("latent_sample", [4], Floats)]);

    /// <summary>
    /// Checks names, ranks and dtypes; returns the output name to read (the required name, or the graph's only
    /// output when it is named differently). Throws <see cref="ModelLoadException"/> naming file and tensor.
    /// </summary>
    public string Validate(string model, OnnxGraph graph)
    {
        foreach (var requirement in Inputs)
        {
            if (!graph.Inputs.TryGetValue(requirement.Name, out var meta))
            {
                if (requirement.Optional)
                    continue;
                throw new ModelLoadException(model, File, requirement.Name,
                    $"required input is missing (graph inputs: {string.Join(", ", graph.Inputs.Keys)})");
            }

            Check(model, requirement, meta, "input");
        }

        foreach (var name in graph.Inputs.Keys)
        {
            if (Inputs.All(r => r.Name != name))
                throw new ModelLoadException(model, File, name, "unexpected input (not part of the SD 1.x/2.x contract; SDXL-style UNets are not supported)");
        }

        var output = Outputs[0];
        string outputName;
        if (graph.Outputs.ContainsKey(output.Name))
            outputName = output.Name;
        else if (graph.Outputs.Count == 1)
            outputName = graph.Outputs.Keys.First();
        else
            throw new ModelLoadException(model, File, output.Name, $"required output is missing (graph outputs: {string.Join(", ", graph.Outputs.Keys)})");
        Check(model, output with { Name = outputName }, graph.Outputs[outputName], "output");
        return outputName;
    }

    private void Check(string model, TensorRequirement requirement, NodeMetadata meta, string kind)
    {
        if (!meta.IsTensor)
            throw new ModelLoadException(model, File, requirement.Name, $"{kind} is not a tensor");
        var rank = meta.Dimensions.Length;
        if (!requirement.Ranks.Contains(rank))
            throw new ModelLoadException(model, File, requirement.Name,
                $"{kind} has rank {rank} [{Describe(meta)}]; expected rank {string.Join(" or ", requirement.Ranks)}");
        if (!requirement.Types.Contains(meta.ElementDataType))
            throw new ModelLoadException(model, File, requirement.Name,
                $"{kind} has element type {Name(meta.ElementDataType)}; expected {string.Join(" or ", requirement.Types.Select(Name))}");
    }

    internal static string Describe(NodeMetadata meta) => TensorText.Shape(meta);

    internal static string Name(TensorElementType type) => TensorText.ElementType(type);
}
