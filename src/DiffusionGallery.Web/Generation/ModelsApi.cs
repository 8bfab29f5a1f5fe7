using DiffusionGallery.Inference.Abstractions;
using DiffusionGallery.Inference.Models;
using DiffusionGallery.Web.Accounts;
using DiffusionGallery.Web.Errors;
using Microsoft.AspNetCore.Http.HttpResults;

namespace DiffusionGallery.Web.Generation;

/// <summary>REST <c>/api/models</c>: the models a job may name, their recommended settings and, when listed, the words each knows.</summary>
public static class ModelsApi
{
    public static IEndpointRouteBuilder MapModelsApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/api/models").RequireAuthorization(AuthPolicies.Api).WithTags("DiffusionGallery").WithDomainErrors();

        api.MapGet("", ListModels).WithName("ListModels")
            .WithSummary("The models you can generate with: sizes, recommended settings, example prompts and the words each model knows.");
        api.MapGet("/{name}", GetModel).WithName("GetModel").WithSummary("One model by name.").ProducesProblem(StatusCodes.Status404NotFound);
        return app;
    }

    private static Ok<List<ModelDto>> ListModels(IImageGenerator generator) => TypedResults.Ok(generator.Models.Select(ModelDto.From).ToList());

    private static Ok<ModelDto> GetModel(string name, IImageGenerator generator) =>
        TypedResults.Ok(ModelDto.From(generator.Models.FirstOrDefault(m => string.Equals(m.Name, name, StringComparison.Ordinal))
            ?? throw new NotFoundException($"No model is named '{(name.Length > 64 ? name[..64] + "…" : name)}'. See GET /api/models.")));
}

public sealed record RecommendedSettingsDto(SamplerKind Sampler, bool KarrasSigmas, int Steps, float GuidanceScale);

/// <summary>The words a model was trained on: every caption word, and its content words by kind (entries may be phrases, "top left").</summary>
public sealed record VocabularyDto(
    IReadOnlyList<string> Words, IReadOnlyList<string> Colours, IReadOnlyList<string> Kinds, IReadOnlyList<string> Sizes,
    IReadOnlyList<string> Positions, IReadOnlyList<string> Backgrounds, IReadOnlyList<string> Counts, IReadOnlyList<string> Relations)
{
    public static VocabularyDto? From(ModelVocabulary? v) =>
        v is null ? null : new(v.Words, v.Colours, v.Kinds, v.Sizes, v.Positions, v.Backgrounds, v.Counts, v.Relations);
}

/// <summary>A model; <see cref="Vocabulary"/> is null for models whose folder lists no words (no hints are given for them).</summary>
public sealed record ModelDto(
    string Name, string DisplayName, int NativeWidth, int NativeHeight, RecommendedSettingsDto Recommended,
    IReadOnlyList<string> ExamplePrompts, VocabularyDto? Vocabulary)
{
    public static ModelDto From(ModelDescriptor m) => new(
        m.Name, m.DisplayName, m.NativeWidth, m.NativeHeight,
        new RecommendedSettingsDto(m.RecommendedSampler, m.RecommendedKarras, m.RecommendedSteps, m.RecommendedGuidance),
        m.ExamplePrompts, VocabularyDto.From(m.Vocabulary));
}
