using DiffusionGallery.Web.Errors;

namespace Microsoft.Extensions.Hosting;

public static class ErrorsExtensions
{
    /// <summary>Problem details and the domain-error filters (the hubs that want theirs add it themselves).</summary>
    public static IHostApplicationBuilder AddErrors(this IHostApplicationBuilder builder)
    {
        builder.Services.AddProblemDetails();
        builder.Services.AddSingleton<DomainErrorEndpointFilter>();
        builder.Services.AddSingleton<DomainErrorHubFilter>();
        return builder;
    }

    /// <summary>
    /// Bodies for bodiless error answers of the machine APIs (<see cref="ApiProblems"/>): problem+json under <c>/api</c>,
    /// FastAPI's <c>{"detail": …}</c> under <c>/sdapi</c>. Before routing and authentication, so their 401/403/404/405 get one too.
    /// </summary>
    public static IApplicationBuilder UseApiErrorBodies(this IApplicationBuilder app)
    {
        app.UseWhen(context => context.Request.Path.StartsWithSegments("/api"), api => api.UseStatusCodePages(ApiProblems.WriteProblemAsync));
        app.UseWhen(context => context.Request.Path.StartsWithSegments("/sdapi"), sdapi => sdapi.UseStatusCodePages(ApiProblems.WriteFastApiDetailAsync));
        return app;
    }

    /// <summary>Maps <see cref="DomainException"/>s thrown by these endpoints to problem+json.</summary>
    public static TBuilder WithDomainErrors<TBuilder>(this TBuilder builder) where TBuilder : IEndpointConventionBuilder =>
        builder.AddEndpointFilter<TBuilder, DomainErrorEndpointFilter>();
}
