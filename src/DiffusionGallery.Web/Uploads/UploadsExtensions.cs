using DiffusionGallery.Web.Uploads;

namespace Microsoft.Extensions.Hosting;

public static class UploadsExtensions
{
    /// <summary>Reference-image uploads: options, storage, the service, reference resolution (what Sharing lets the user see) and the retention sweep.</summary>
    public static IHostApplicationBuilder AddUploads(this IHostApplicationBuilder builder)
    {
        builder.Services.AddOptions<UploadOptions>().BindConfiguration(UploadOptions.SectionName).ValidateDataAnnotations().ValidateOnStart();
        builder.Services.AddSingleton<UploadStore>();
        builder.Services.AddSingleton<UploadService>();
        builder.Services.AddSingleton<IImageSourceResolver, VisibleImageSourceResolver>();
        builder.Services.AddSingleton<ReferenceImages>();
        builder.Services.AddHostedService<UploadRetentionSweeper>();
        return builder;
    }

    public static IEndpointRouteBuilder MapUploads(this IEndpointRouteBuilder app) => app.MapUploadEndpoints();
}
