using DiffusionGallery.Web.A1111;
using Microsoft.AspNetCore.Authentication;
using Microsoft.Extensions.Options;

namespace Microsoft.Extensions.Hosting;

public static class A1111Extensions
{
    /// <summary>AUTOMATIC1111's API (<c>/sdapi/v1</c>): Basic/Bearer token authentication, mapping, options store, runner.</summary>
    public static IHostApplicationBuilder AddA1111Api(this IHostApplicationBuilder builder)
    {
        var services = builder.Services;
        services.AddOptions<A1111ApiOptions>().BindConfiguration(A1111ApiOptions.SectionName).ValidateDataAnnotations().ValidateOnStart();
        services.AddAuthentication().AddScheme<AuthenticationSchemeOptions, A1111AuthenticationHandler>(A1111AuthenticationHandler.SchemeName, null);
        services.AddAuthorizationBuilder().AddPolicy(A1111AuthenticationHandler.PolicyName, policy => policy
            .AddAuthenticationSchemes(A1111AuthenticationHandler.SchemeName)
            .RequireAuthenticatedUser());
        services.AddSingleton<A1111ModelCatalog>();
        services.AddSingleton<A1111OptionsStore>();
        services.AddSingleton<A1111InitImageDecoder>();
        services.AddSingleton<A1111JobTracker>();
        services.AddScoped<A1111Submitter>();
        services.AddScoped<A1111RequestMapper>();
        services.AddScoped<A1111Runner>();
        return builder;
    }

    /// <summary>Maps <c>/sdapi/v1/…</c> unless <c>Api:A1111Compatible</c> is false.</summary>
    public static WebApplication MapA1111Api(this WebApplication app)
    {
        if (app.Services.GetRequiredService<IOptions<A1111ApiOptions>>().Value.A1111Compatible)
            app.MapA1111Endpoints();
        return app;
    }
}
