using System.Globalization;

using DiffusionGallery.Web.Generation;
using DiffusionGallery.Web.Options;
using Microsoft.AspNetCore.OpenApi;
using Microsoft.Extensions.Options;
using Microsoft.OpenApi;

namespace DiffusionGallery.Web.ApiDocs;

/// <summary>Writes the server's limits (from <see cref="GenerationOptions"/>) into the request schema, so clients can check before sending.</summary>
public sealed class GenerationLimitsSchemaTransformer(IOptions<GenerationOptions> options) : IOpenApiSchemaTransformer
{
    public Task TransformAsync(OpenApiSchema schema, OpenApiSchemaTransformerContext context, CancellationToken cancellationToken)
    {
        if (context.JsonTypeInfo.Type != typeof(GenerateRequestDto) || schema.Properties is not { } properties) return Task.CompletedTask;
        var limits = options.Value;
        Length(properties, "prompt", 1, limits.MaxPromptLength);
        Length(properties, "negativePrompt", null, limits.MaxPromptLength);
        Range(properties, "steps", 1, limits.MaxSteps);
        Range(properties, "batchCount", 1, limits.MaxBatch);
        Range(properties, "width", limits.MinPixelsSide, limits.MaxPixelsSide, multipleOf: 8);
        Range(properties, "height", limits.MinPixelsSide, limits.MaxPixelsSide, multipleOf: 8);
        Range(properties, "guidanceScale", limits.MinGuidance, limits.MaxGuidance);
        Range(properties, "temperature", limits.MinTemperature, limits.MaxTemperature);
        return Task.CompletedTask;
    }

    private static void Length(IDictionary<string, IOpenApiSchema> properties, string name, int? min, int max)
    {
        if (!properties.TryGetValue(name, out var property) || property is not OpenApiSchema schema) return;
        schema.MinLength = min;
        schema.MaxLength = max;
    }

    private static void Range(IDictionary<string, IOpenApiSchema> properties, string name, double min, double max, double? multipleOf = null)
    {
        if (!properties.TryGetValue(name, out var property) || property is not OpenApiSchema schema) return;
        schema.Minimum = min.ToString(CultureInfo.InvariantCulture);
        schema.Maximum = max.ToString(CultureInfo.InvariantCulture);
        if (multipleOf is { } step) schema.MultipleOf = (decimal)step;
    }
}
