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

    /// <summary>Maps <see cref="DomainException"/>s thrown by these endpoints to problem+json.</summary>
    public static TBuilder WithDomainErrors<TBuilder>(this TBuilder builder) where TBuilder : IEndpointConventionBuilder =>
        builder.AddEndpointFilter<TBuilder, DomainErrorEndpointFilter>();
}
