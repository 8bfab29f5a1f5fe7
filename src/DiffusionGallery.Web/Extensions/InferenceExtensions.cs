using DiffusionGallery.Web.Options;

namespace Microsoft.Extensions.Hosting;

public static class InferenceExtensions
{
    /// <summary>The inference engine (IImageGenerator), configured from the Inference section.</summary>
    public static IHostApplicationBuilder AddInference(this IHostApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        // ENGINE REGISTRATION POINT: the DiffusionImageGenerator from DiffusionGallery.Inference is registered here
        // once it is merged from main.
        _ = typeof(InferenceOptions);
        return builder;
    }
}
