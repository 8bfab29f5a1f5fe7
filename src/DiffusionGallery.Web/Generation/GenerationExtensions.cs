using System.Text.Json.Serialization;
using DiffusionGallery.Web.Accounts;
using DiffusionGallery.Web.Errors;
using DiffusionGallery.Web.Generation;
using DiffusionGallery.Web.Options;
using Microsoft.AspNetCore.SignalR;
using Microsoft.Extensions.Options;

namespace Microsoft.Extensions.Hosting;

public static class GenerationExtensions
{
    /// <summary>Submission, queue, start-up recovery, worker, notifier, per-circuit session, REST JSON and the hub.</summary>
    public static IHostApplicationBuilder AddGeneration(this IHostApplicationBuilder builder)
    {
        var services = builder.Services;
        services.AddSingleton<IValidateOptions<GenerationOptions>, GenerationOptionsValidator>();
        services.AddSingleton<JobNotifier>();
        services.AddSingleton<GenerationRequestFactory>();
        services.AddSingleton<JobBatching>();
        services.AddSingleton<GenerationQueue>();
        services.AddSingleton<JobQueries>();
        services.AddScoped<SubmissionService>();
        services.AddSingleton<UserPreferencesService>();
        services.AddSingleton<IPromptTokenCounter, ClipPromptTokenCounter>();
        services.AddHostedService<JobRecovery>(); // before the worker: hosted services start in this order
        services.AddHostedService<GenerationWorker>();
        services.AddScoped<GenerationSession>();

        services.AddSignalR(hub => hub.MaximumReceiveMessageSize = 32 * 1024)
            .AddJsonProtocol(json => json.PayloadSerializerOptions.Converters.Add(new DiffusionGallery.Web.Errors.EnumNamesJsonConverter()))
            .AddHubOptions<GenerationHub>(hub =>
            {
                // Per hub, not global: a global hub filter would also run on Blazor's circuit hub.
                hub.AddFilter<CurrentUserHubFilter>();
                hub.AddFilter<DomainErrorHubFilter>();
            });
        services.AddSingleton<CurrentUserHubFilter>();
        services.AddSingleton<HubSubscriptions>();
        services.ConfigureHttpJsonOptions(json =>
        {
            json.SerializerOptions.Converters.Add(new EnumNamesJsonConverter()); // names; an unknown one is refused listing the valid names
            json.SerializerOptions.NumberHandling = JsonNumberHandling.Strict; // no numbers from strings
        });
        return builder;
    }

    /// <summary>REST <c>/api/generations</c> and <c>/api/models</c>, and the hub <c>/hubs/generation</c>.</summary>
    public static WebApplication MapGeneration(this WebApplication app)
    {
        app.MapGenerationsApi();
        app.MapModelsApi();
        app.MapHub<GenerationHub>(GenerationHub.Path);
        return app;
    }
}
