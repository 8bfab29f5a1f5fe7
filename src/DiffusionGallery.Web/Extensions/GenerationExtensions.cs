using System.Text.Json.Serialization;
using DiffusionGallery.Web.Generation;
using DiffusionGallery.Web.Hubs;
using DiffusionGallery.Web.Storage;

namespace Microsoft.Extensions.Hosting;

public static class GenerationExtensions
{
    /// <summary>Queue, worker, notifier, per-circuit session, gallery and storage.</summary>
    public static IHostApplicationBuilder AddGeneration(this IHostApplicationBuilder builder)
    {
        var services = builder.Services;
        services.AddSingleton<ImageStore>();
        services.AddSingleton<JobNotifier>();
        services.AddSingleton<GenerationRequestFactory>();
        services.AddSingleton<GenerationQueue>();
        services.AddSingleton<JobQueries>();
        services.AddSingleton<GalleryService>();
        services.AddSingleton<UserPreferencesService>();
        services.AddSingleton<IPromptTokenCounter, ClipPromptTokenCounter>();
        services.AddHostedService<GenerationWorker>();
        services.AddScoped<GenerationSession>();

        services.AddSignalR(hub => hub.MaximumReceiveMessageSize = 32 * 1024)
            .AddJsonProtocol(json => json.PayloadSerializerOptions.Converters.Add(new JsonStringEnumConverter()));
        services.AddSingleton<HubSubscriptions>();
        services.ConfigureHttpJsonOptions(json => json.SerializerOptions.Converters.Add(new JsonStringEnumConverter()));
        return builder;
    }
}
