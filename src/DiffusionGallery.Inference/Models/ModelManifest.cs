using System.Text.Json;
using System.Text.Json.Serialization;
using DiffusionGallery.Inference.Previews;

namespace DiffusionGallery.Inference.Models;

/// <summary>Our optional <c>diffusion_gallery.json</c>: display data, sizes, VAE scaling, preview factors, recommendations.</summary>
public sealed record ModelManifest
{
    public const string FileName = "diffusion_gallery.json";

    public string? Name { get; init; }
    public string? DisplayName { get; init; }
    public int? NativeWidth { get; init; }
    public int? NativeHeight { get; init; }
    public int? MaxWidth { get; init; }
    public int? MaxHeight { get; init; }
    public double? ScalingFactor { get; init; }
    public PreviewSection? Preview { get; init; }
    public RecommendedSection? Recommended { get; init; }
    public List<string>? ExamplePrompts { get; init; }
    public VocabularySection? Vocabulary { get; init; }
    public string? License { get; init; }

    public sealed record PreviewSection
    {
        public float[][]? Factors { get; init; }
        public float[]? Bias { get; init; }
        public double? FitRmse { get; init; }
        public MlpSection? Mlp { get; init; }
    }

    /// <summary>An optional per-pixel preview MLP (4 → h → h → 3, SiLU), weights as [out][in].</summary>
    public sealed record MlpSection
    {
        public string? Activation { get; init; }
        public float[][]? W1 { get; init; }
        public float[]? B1 { get; init; }
        public float[][]? W2 { get; init; }
        public float[]? B2 { get; init; }
        public float[][]? W3 { get; init; }
        public float[]? B3 { get; init; }
    }

    public sealed record RecommendedSection
    {
        public string? Sampler { get; init; }
        public bool? Karras { get; init; }
        public int? Steps { get; init; }
        public float? GuidanceScale { get; init; }
    }

    /// <summary>
    /// The words the model was trained on (optional; a model without it gives no vocabulary hints): every word of
    /// its captions, and its content words by kind, as words or short phrases ("top left").
    /// </summary>
    public sealed record VocabularySection
    {
        public List<string>? Words { get; init; }
        public List<string>? Colours { get; init; }
        public List<string>? Kinds { get; init; }
        public List<string>? Sizes { get; init; }
        public List<string>? Positions { get; init; }
        public List<string>? Backgrounds { get; init; }
        public List<string>? Counts { get; init; }
        public List<string>? Relations { get; init; }
    }

    private static readonly JsonSerializerOptions Options = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        NumberHandling = JsonNumberHandling.AllowReadingFromString,
        ReadCommentHandling = JsonCommentHandling.Skip,
        AllowTrailingCommas = true,
    };

    public static ModelManifest Parse(string json) =>
        JsonSerializer.Deserialize<ModelManifest>(json, Options) ?? new ModelManifest();

    /// <summary>The preview factors if they are well-formed (4 rows of 3), else null; with the MLP when one is given.</summary>
    public PreviewFactors? PreviewFactors =>
        Preview?.Factors is { Length: > 0 } f && f.All(r => r.Length == 3)
            ? new PreviewFactors(f, Preview.Bias is { Length: 3 } b ? b : [0f, 0f, 0f], PreviewMlp)
            : null;

    private PreviewMlp? PreviewMlp =>
        Preview?.Mlp is { Activation: "silu", W1: { } w1, B1: { } b1, W2: { } w2, B2: { } b2, W3: { } w3, B3: { } b3 }
            ? new PreviewMlp(w1, b1, w2, b2, w3, b3)
            : null;
}
