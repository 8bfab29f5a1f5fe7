using System.Security.Cryptography;
using DiffusionGallery.Inference.Onnx;
using DiffusionGallery.Inference.Scheduling;
using DiffusionGallery.Inference.Tokenization;
using Microsoft.ML.OnnxRuntime.Tensors;

namespace DiffusionGallery.Inference.Models;

/// <summary>
/// A model with its sessions created and validated: shared by every job that uses it, disposed when the
/// generator unloads it. Holds what the pipeline needs to know about dtypes and shapes.
/// </summary>
public sealed class LoadedModel : IDisposable
{
    private LoadedModel(ModelInfo info, ClipTokenizer tokenizer, OnnxGraph textEncoder, OnnxGraph unet, OnnxGraph vaeDecoder, OnnxGraph? vaeEncoder, string hash, string provider)
    {
        Info = info;
        Tokenizer = tokenizer;
        TextEncoder = textEncoder;
        Unet = unet;
        VaeDecoder = vaeDecoder;
        VaeEncoder = vaeEncoder;
        ContentHash = hash;
        ExecutionProvider = provider;
        Schedule = new NoiseSchedule(info.Scheduler);
    }

    public ModelInfo Info { get; }
    public string Name => Info.Name;
    public ClipTokenizer Tokenizer { get; }
    public NoiseSchedule Schedule { get; }
    public OnnxGraph TextEncoder { get; }
    public OnnxGraph Unet { get; }
    public OnnxGraph VaeDecoder { get; }
    public OnnxGraph? VaeEncoder { get; }
    /// <summary>SHA-256 (hex) over every file of the model folder (paths and contents).</summary>
    public string ContentHash { get; }
    /// <summary>A1111-style short hash: the first 10 hex digits of <see cref="ContentHash"/>.</summary>
    public string ShortHash => ContentHash[..10];
    public string ExecutionProvider { get; }

    internal string TextEncoderOutput { get; private init; } = "";
    internal string UnetOutput { get; private init; } = "";
    internal string VaeDecoderOutput { get; private init; } = "";
    internal string VaeEncoderOutput { get; private init; } = "";
    internal TensorElementType IdsType => TextEncoder.Inputs["input_ids"].ElementDataType;
    internal TensorElementType SampleType => Unet.Inputs["sample"].ElementDataType;
    internal TensorElementType TimestepType => Unet.Inputs["timestep"].ElementDataType;
    internal int TimestepRank => Unet.Inputs["timestep"].Dimensions.Length;
    /// <summary>A rank-1 timestep input whose only dimension is fixed to 1 (broadcast over the batch).</summary>
    internal bool TimestepIsSingle => TimestepRank == 1 && Unet.Inputs["timestep"].Dimensions[0] == 1;
    /// <summary>The UNet takes one timestep per row ([batch]) rather than one for all rows (a scalar or [1]).</summary>
    internal bool TimestepPerRow => TimestepRank == 1 && !TimestepIsSingle;
    internal TensorElementType HiddenStatesType => Unet.Inputs["encoder_hidden_states"].ElementDataType;
    internal TensorElementType LatentType => VaeDecoder.Inputs["latent_sample"].ElementDataType;
    internal bool HasTimestepCond => Unet.Inputs.ContainsKey("timestep_cond");
    internal int TimestepCondDim => HasTimestepCond && Unet.Inputs["timestep_cond"].Dimensions[1] > 0 ? Unet.Inputs["timestep_cond"].Dimensions[1] : 256;
    internal TensorElementType TimestepCondType => Unet.Inputs["timestep_cond"].ElementDataType;
    /// <summary>Pixels per latent cell along each side: the VAE's downsampling in the diffusers (SD) layout.</summary>
    internal const int VaeFactor = 8;

    internal int LatentChannels => Unet.Inputs["sample"].Dimensions[1] > 0 ? Unet.Inputs["sample"].Dimensions[1] : 4;

    /// <summary>Whether the model is a Latent Consistency Model (LCM scheduler config or a timestep_cond input).</summary>
    public bool IsLcm => Info.Scheduler.IsLcm || HasTimestepCond;

    /// <summary>The fixed-shape UNets (<see cref="InferenceOptions.StaticUnetShapes"/>); null when that is off.</summary>
    internal Pipeline.StaticUnetCache? StaticUnets { get; set; }

    /// <summary>The latent step graph (with <see cref="InferenceOptions.LatentsOnDevice"/> and fixed-shape UNets); null = steps on the host.</summary>
    internal Pipeline.LatentStepGraph? LatentStep { get; set; }

    /// <summary>Fixed-shape VAE decoders (with <see cref="InferenceOptions.StaticVaeDecoder"/>); null = the ordinary session only.</summary>
    internal Pipeline.StaticVaeDecoderCache? StaticVaeDecoders { get; set; }

    /// <summary>Creates, validates and returns the sessions of a model folder. Cancellable between and inside graph loads.</summary>
    public static async Task<LoadedModel> LoadAsync(ModelInfo info, SessionFactory factory, CancellationToken cancellationToken)
    {
        var graphs = new List<OnnxGraph>();
        Task<string>? hashTask = null;
        try
        {
            var tokenizerFolder = Path.Combine(info.Folder, "tokenizer");
            foreach (var file in new[] { "vocab.json", "merges.txt" })
            {
                if (!File.Exists(Path.Combine(tokenizerFolder, file)))
                    throw new ModelLoadException(info.Name, $"tokenizer/{file}", null, "file is missing");
            }

            ClipTokenizer tokenizer;
            try
            {
                tokenizer = ClipTokenizer.Load(tokenizerFolder);
            }
            catch (Exception ex) when (ex is InvalidDataException or System.Text.Json.JsonException or ArgumentException or InvalidOperationException)
            {
                throw new ModelLoadException(info.Name, "tokenizer/vocab.json", null, $"cannot be read as a CLIP tokenizer: {ex.Message}", ex);
            }

            hashTask = Task.Run(() => HashFolder(info.Folder, cancellationToken), cancellationToken);

            OnnxGraph Load(GraphContract contract, out string output)
            {
                var graph = OnnxGraph.Load(info.Name, info.Folder, contract.File, factory, cancellationToken);
                graphs.Add(graph);
                output = contract.Validate(info.Name, graph);
                return graph;
            }

            var (textEncoder, textOut) = await Task.Run(() => (Load(GraphContract.TextEncoder, out var o), o), cancellationToken).ConfigureAwait(false);
            var (unet, unetOut) = await Task.Run(() => (Load(GraphContract.Unet, out var o), o), cancellationToken).ConfigureAwait(false);
            var (decoder, decoderOut) = await Task.Run(() => (Load(GraphContract.VaeDecoder, out var o), o), cancellationToken).ConfigureAwait(false);
            OnnxGraph? encoder = null;
            var encoderOut = "";
            if (info.HasVaeEncoder)
                (encoder, encoderOut) = await Task.Run(() => (Load(GraphContract.VaeEncoder, out var o), o), cancellationToken).ConfigureAwait(false);

            CheckHiddenSize(info.Name, textEncoder, unet);
            var hash = await hashTask.ConfigureAwait(false);
            return new LoadedModel(info, tokenizer, textEncoder, unet, decoder, encoder, hash, factory.Provider)
            {
                TextEncoderOutput = textOut,
                UnetOutput = unetOut,
                VaeDecoderOutput = decoderOut,
                VaeEncoderOutput = encoderOut,
            };
        }
        catch
        {
            foreach (var graph in graphs)
                graph.Dispose();
            // Observe the hash task's own failure or cancellation; the load error is the one that matters.
            _ = hashTask?.ContinueWith(t => t.Exception, TaskScheduler.Default);
            throw;
        }
    }

    private static void CheckHiddenSize(string model, OnnxGraph textEncoder, OnnxGraph unet)
    {
        var produced = textEncoder.Outputs.TryGetValue("last_hidden_state", out var meta) ? meta.Dimensions[^1] : -1;
        var expected = unet.Inputs["encoder_hidden_states"].Dimensions[^1];
        if (produced > 0 && expected > 0 && produced != expected)
            throw new ModelLoadException(model, GraphContract.Unet.File, "encoder_hidden_states",
                $"expects hidden size {expected} but text_encoder/model.onnx produces {produced}");
    }

    public static string HashFolder(string folder, CancellationToken cancellationToken)
    {
        using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        var files = Directory.EnumerateFiles(folder, "*", SearchOption.AllDirectories)
            .Select(f => Path.GetRelativePath(folder, f).Replace('\\', '/'))
            .Where(f => !f.StartsWith('.'))
            .Order(StringComparer.Ordinal);
        var buffer = new byte[1 << 20];
        foreach (var relative in files)
        {
            cancellationToken.ThrowIfCancellationRequested();
            sha.AppendData(System.Text.Encoding.UTF8.GetBytes(relative + "\n"));
            using var stream = File.OpenRead(Path.Combine(folder, relative));
            int read;
            while ((read = stream.Read(buffer)) > 0)
                sha.AppendData(buffer, 0, read);
        }

        return Convert.ToHexStringLower(sha.GetHashAndReset());
    }

    public void Dispose()
    {
        StaticUnets?.Dispose();
        StaticVaeDecoders?.Dispose();
        LatentStep?.Dispose();
        TextEncoder.Dispose();
        Unet.Dispose();
        VaeDecoder.Dispose();
        VaeEncoder?.Dispose();
    }
}
