namespace DiffusionGallery.Inference.Onnx;

/// <summary>The CUDA execution provider was required but could not be loaded.</summary>
public sealed class ExecutionProviderUnavailableException(string message, Exception? inner = null) : Exception(message, inner);
