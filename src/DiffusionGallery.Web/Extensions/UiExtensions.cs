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
        app.Use((context, next) =>
        {
            context.Response.Headers.XContentTypeOptions = "nosniff";
            context.Response.Headers["Referrer-Policy"] = "same-origin";
            return next(context);
        });
        // Friendly status pages for the UI only: API, image and hub responses keep their status and body.
        app.UseWhen(context => !IsMachineEndpoint(context.Request.Path),
            ui => ui.UseStatusCodePagesWithReExecute("/not-found", createScopeForStatusCodePages: true));

        app.UseAuthentication();
        app.UseAuthorization();
        app.UseAntiforgery();

        app.MapStaticAssets();
        app.MapRazorComponents<App>().AddInteractiveServerRenderMode();
        app.MapOpenApi();
        app.MapHealthChecks("/healthz");
        return app;
    }

    internal static bool IsMachineEndpoint(PathString path) =>
        path.StartsWithSegments("/api") || path.StartsWithSegments("/images") || path.StartsWithSegments("/hubs") || path.StartsWithSegments("/openapi");
}
