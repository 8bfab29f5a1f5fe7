using System.Text.Json.Serialization;
using DiffusionGallery.Web.ApiDocs;

namespace Microsoft.Extensions.Hosting;

public static class ApiDocsExtensions
{
    public const string DocumentPath = "/openapi/{documentName}.json";

    /// <summary>
    /// The OpenAPI document at /openapi/v1.json: the REST API and the image file routes only, both security schemes,
    /// integers typed as integers (JSON numbers are read strictly) and the limits from <c>GenerationOptions</c>.
    /// </summary>
    public static IHostApplicationBuilder AddApiDocs(this IHostApplicationBuilder builder)
    {
        // The web defaults also read numbers from strings, which makes every integer "number | string" in the document
        // and lets "steps":"5" through; clients send JSON numbers.
        builder.Services.ConfigureHttpJsonOptions(json => json.SerializerOptions.NumberHandling = JsonNumberHandling.Strict);
        builder.Services.AddOpenApi(options =>
        {
            options.ShouldInclude = description => ApiDocument.IsPublic(description.RelativePath);
            options.AddDocumentTransformer<ApiDocument>();
            options.AddSchemaTransformer<GenerationLimitsSchemaTransformer>();
        });
        return builder;
    }

    public static WebApplication MapApiDocs(this WebApplication app)
    {
        app.MapOpenApi(DocumentPath);
        return app;
    }
}
