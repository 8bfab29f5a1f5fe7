using DiffusionGallery.Inference.Models;
using Microsoft.ML.OnnxRuntime;

namespace DiffusionGallery.Inference.Onnx;

/// <summary>One ONNX graph of a model folder with its session; shared by all jobs of that model.</summary>
public sealed class OnnxGraph : IDisposable
{
    private OnnxGraph(string relativePath, InferenceSession session, long fileBytes)
    {
        RelativePath = relativePath;
        Session = session;
        FileBytes = fileBytes;
    }

    /// <summary>e.g. <c>unet/model.onnx</c>.</summary>
    public string RelativePath { get; }
    public InferenceSession Session { get; }
    /// <summary>Size of the graph file plus external weight files in its folder.</summary>
    public long FileBytes { get; }
    public IReadOnlyDictionary<string, NodeMetadata> Inputs => Session.InputMetadata;
    public IReadOnlyDictionary<string, NodeMetadata> Outputs => Session.OutputMetadata;

    /// <summary>Creates the session; cancellable while ONNX Runtime loads and optimises the graph.</summary>
    public static OnnxGraph Load(string modelName, string modelFolder, string relativePath, SessionFactory factory, CancellationToken cancellationToken)
    {
        var path = Path.Combine(modelFolder, relativePath);
        if (!File.Exists(path))
            throw new ModelLoadException(modelName, relativePath, null, "file is missing");
        cancellationToken.ThrowIfCancellationRequested();
        try
        {
            return Create(modelName, path, relativePath, factory, cancellationToken);
        }
        catch (ModelLoadException ex) when (ex.InnerException is OnnxRuntimeException inner && factory.TryFallBackToCpu(inner))
        {
            return Create(modelName, path, relativePath, factory, cancellationToken);
        }
    }

    private static OnnxGraph Create(string modelName, string path, string relativePath, SessionFactory factory, CancellationToken cancellationToken)
    {
        using var work = CudaGraphCapture.Work();
        using var options = factory.CreateSessionOptions();
        using var registration = cancellationToken.Register(() => options.SetLoadCancellationFlag(true));
        try
        {
            var session = new InferenceSession(path, options);
            var folder = Path.GetDirectoryName(path)!;
            var bytes = Directory.EnumerateFiles(folder).Sum(f => new FileInfo(f).Length);
            return new OnnxGraph(relativePath.Replace('\\', '/'), session, bytes);
        }
        catch (OnnxRuntimeException ex)
        {
            cancellationToken.ThrowIfCancellationRequested();
            throw new ModelLoadException(modelName, relativePath, null, $"ONNX Runtime cannot load it: {ex.Message}", ex);
        }
    }

    public void Dispose()
    {
        using var work = CudaGraphCapture.Work();
        Session.Dispose();
    }
}
