using DiffusionGallery.Web.Lab;

namespace Microsoft.Extensions.Hosting;

public static class LabExtensions
{
    /// <summary>The Diffusion Lab's services.</summary>
    public static IHostApplicationBuilder AddLab(this IHostApplicationBuilder builder)
    {
        builder.Services.AddSingleton<ForwardDiffusionService>();
        builder.Services.AddScoped<LabJobRunner>();
        return builder;
    }

    public static IEndpointRouteBuilder MapLab(this IEndpointRouteBuilder app) => app.MapLabEndpoints();
}
