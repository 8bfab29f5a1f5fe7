using DiffusionGallery.Inference.Models;
using DiffusionGallery.Inference.Onnx;

namespace DiffusionGallery.Inference.Pipeline;

/// <summary>A loaded model's fixed-shape UNets (<see cref="StaticUnet"/>), by shape and whether LCM's guidance embedding is an input.</summary>
internal sealed class StaticUnetCache(LoadedModel model, SessionFactory factory, int limit, bool cudaGraphs, int cudaDevice, Action<string>? log)
    : FixedShapeCache<(StaticUnetShape Shape, bool TimestepCond), StaticUnet>(model.Name, "UNet",
        key => StaticUnet.Create(model, factory, key.Shape, key.TimestepCond, cudaGraphs ? cudaDevice : null), key => key.Shape.ToString(),
        limit, cudaGraphs, log)
{
    /// <summary>The CUDA device whose memory the UNets' tensors are in (with CUDA graphs); null = host memory.</summary>
    public int? TensorDevice { get; } = cudaGraphs ? cudaDevice : null;

    /// <summary>The fixed-shape UNet for <paramref name="shape"/>, made now if there is room; false to use the ordinary session.</summary>
    public bool TryGet(StaticUnetShape shape, bool timestepCond, out StaticUnet unet) => TryGet((shape, timestepCond), out unet);

    /// <summary>Whether a call of this shape would run on a fixed-shape UNet (see <see cref="FixedShapeCache{TKey,TSession}.Serves"/>).</summary>
    public bool Serves(StaticUnetShape shape, bool timestepCond) => Serves((shape, timestepCond));
}
