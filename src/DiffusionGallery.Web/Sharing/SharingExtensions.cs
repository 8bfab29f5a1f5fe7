using DiffusionGallery.Web.Accounts;
using DiffusionGallery.Web.Sharing;
using DiffusionGallery.Web.Sharing.Endpoints;
using Microsoft.AspNetCore.Identity;

namespace Microsoft.Extensions.Hosting;

public static class SharingExtensions
{
    /// <summary>Lets anyone in, and recognises a signed-in viewer by cookie or personal access token.</summary>
    public const string ViewerPolicy = "SharingViewer";

    /// <summary>Visibility, share links, handles, Explore, likes, lineage, remix prefill and collections.</summary>
    public static IHostApplicationBuilder AddSharing(this IHostApplicationBuilder builder)
    {
        builder.Services.AddSharingServices();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<RemixCounts>());
        builder.Services.AddAuthorizationBuilder().AddPolicy(ViewerPolicy, policy => policy
            .AddAuthenticationSchemes(IdentityConstants.ApplicationScheme, PersonalAccessTokenHandler.SchemeName)
            .RequireAssertion(_ => true));
        return builder;
    }

    /// <summary>The sharing services alone (needs the database context factory, logging and a TimeProvider).</summary>
    public static IServiceCollection AddSharingServices(this IServiceCollection services)
    {
        services.AddSingleton<ImageAccess>();
        services.AddSingleton<SharingService>();
        services.AddSingleton<UserProfiles>();
        services.AddSingleton<SharedImageReader>();
        services.AddSingleton<ExploreService>();
        services.AddSingleton<LikeService>();
        services.AddSingleton<LineageService>();
        services.AddSingleton<CollectionService>();
        services.AddSingleton<RemixCounts>();
        return services;
    }

    public static IEndpointRouteBuilder MapSharing(this IEndpointRouteBuilder app)
    {
        app.MapSharingApi();
        app.MapSharedFiles();
        return app;
    }
}
