using DiffusionGallery.Web.Gallery;

namespace Microsoft.Extensions.Hosting;

public static class GalleryExtensions
{
    /// <summary>Image rows and files: the gallery service, the image store and its start-up sweep.</summary>
    public static IHostApplicationBuilder AddGallery(this IHostApplicationBuilder builder)
    {
        builder.Services.AddSingleton<ImageStore>();
        builder.Services.AddSingleton<GalleryService>();
        builder.Services.AddHostedService<StorageSweep>(); // registered before the worker starts writing files
        return builder;
    }

    /// <summary><c>/api/images</c> and the owner-checked files <c>/images/{id}</c>.</summary>
    public static WebApplication MapGallery(this WebApplication app)
    {
        app.MapGalleryApi();
        app.MapImageFiles();
        return app;
    }
}
