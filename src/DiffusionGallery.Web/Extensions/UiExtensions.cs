using DiffusionGallery.Web.Components;
using MudBlazor.Services;

namespace Microsoft.Extensions.Hosting;

public static class UiExtensions
{
    /// <summary>Blazor Server (interactive server render mode) with MudBlazor.</summary>
    public static IHostApplicationBuilder AddUi(this IHostApplicationBuilder builder)
    {
        // Circuit limits: the framework defaults, stated here so a test guards them (see the security checklist).
        builder.Services.AddRazorComponents().AddInteractiveServerComponents(circuit =>
        {
            circuit.DisconnectedCircuitMaxRetained = 100;
            circuit.DisconnectedCircuitRetentionPeriod = TimeSpan.FromMinutes(3);
            circuit.JSInteropDefaultCallTimeout = TimeSpan.FromMinutes(1);
            circuit.MaxBufferedUnacknowledgedRenderBatches = 10;
            circuit.DetailedErrors = builder.Environment.IsDevelopment();
        });
        builder.Services.AddMudServices();
        builder.Services.AddHealthChecks();
        return builder;
    }

    /// <summary>The request pipeline, the Razor components, OpenAPI and health (capabilities map their own endpoints: Program.cs).</summary>
    public static WebApplication MapDiffusionGallery(this WebApplication app)
    {
        if (app.Environment.IsDevelopment())
        {
            app.UseMigrationsEndPoint();
        }
        else
        {
            app.UseExceptionHandler("/Error", createScopeForErrors: true);
            app.UseHsts();
        }
        // Friendly status pages for the UI only: API, image and hub responses keep their status and body.
        app.UseWhen(context => !IsMachineEndpoint(context.Request.Path),
            ui => ui.UseStatusCodePagesWithReExecute("/not-found", createScopeForStatusCodePages: true));
        // ... and for the REST and A1111 APIs, bodies in their own formats (problem+json, FastAPI's {"detail"}).
        app.UseApiErrorBodies();
        // Routing after the status code pages, so a re-executed request (/nope -> /not-found) is routed again; with the
        // implicit routing at the start of the pipeline it found no endpoint and answered an empty 404.
        app.UseRouting();

        app.UseAuthentication();
        app.UseAuthorization();
        app.UseAntiforgery();

        app.MapStaticAssets();
        // The page's whole Content-Security-Policy (frame-ancestors included) comes from UseWebSecurity.
        app.MapRazorComponents<App>().AddInteractiveServerRenderMode(server => server.ContentSecurityFrameAncestorsPolicy = null);
        app.MapHealthChecks("/healthz");
        return app;
    }

    internal static bool IsMachineEndpoint(PathString path) =>
        path.StartsWithSegments("/api") || path.StartsWithSegments("/images") || path.StartsWithSegments("/hubs") || path.StartsWithSegments("/openapi")
        || path.StartsWithSegments("/sdapi");
}
