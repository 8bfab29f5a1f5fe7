using DiffusionGallery.Inference.Abstractions;
using DiffusionGallery.Web.Generation;
using DiffusionGallery.Web.Options;
using Fields = DiffusionGallery.Web.Generation.GenerationRequestFactory.Fields;
using DiffusionGallery.Web.Data.Entities;
using Microsoft.AspNetCore.Components;
using Microsoft.AspNetCore.Components.Web;

namespace DiffusionGallery.Web.Components.Pages.Generate;

public sealed record SizePreset(string Key, string Label, int Width, int Height);

public partial class PromptForm
{
    /// <summary>The settings being edited (bound in place). A negative seed means "random".</summary>
    [Parameter, EditorRequired] public GenerationSettings Settings { get; set; } = new();

    [Parameter] public IReadOnlyList<ModelDescriptor> Models { get; set; } = [];

    [Parameter] public bool Busy { get; set; }

    /// <summary>The limits to show (the server checks them; the form never clamps or cuts what was typed).</summary>
    [Parameter] public GenerationOptions Limits { get; set; } = new();

    /// <summary>Messages per field (camelCase names, as <see cref="Errors.DomainErrorMapping.ToFieldMessages"/> gives them); a field's message goes when it is edited.</summary>
    [Parameter] public IDictionary<string, string[]>? Errors { get; set; }

    /// <summary>Raised with the field's name whenever the user changes a field.</summary>
    [Parameter] public EventCallback<string> OnEdited { get; set; }

    /// <summary>Raised with a copy of the settings in which the seed is concrete.</summary>
    [Parameter] public EventCallback<GenerationSettings> OnGenerate { get; set; }

    [Inject] private IPromptTokenCounter TokenCounter { get; set; } = default!;

    private int TokenCount => TokenCounter.Count(Settings.Prompt, Settings.Model);

    private static int TokenLimit => ClipPromptTokenCounter.Limit;

    private bool RandomSeed
    {
        get => Settings.Seed < 0 && _seedTyped is null;
        set
        {
            _seedTyped = null;
            Settings.Seed = value ? -1 : LastSeed ?? 0;
        }
    }

    /// <summary>A fixed seed as typed that is not one (negative, not a whole number, too large): kept as typed and refused;
    /// the settings keep the last valid seed (a negative seed there means "random").</summary>
    private string? _seedTyped;

    public static readonly string SeedRangeMessage =
        $"The seed must be a whole number from 0 to {Seeds.Max.ToString(System.Globalization.CultureInfo.InvariantCulture)}; use the dice for a random one.";

    private string SeedShown => _seedTyped ?? Settings.Seed.ToString(System.Globalization.CultureInfo.InvariantCulture);

    private bool SeedHasError => _seedTyped is not null || HasError(Fields.Seed);

    private string? SeedError => _seedTyped is not null ? SeedRangeMessage : ErrorFor(Fields.Seed);

    /// <summary>The seed used for the last submission (shown after generation).</summary>
    public long? LastSeed { get; private set; }

    private ModelDescriptor? SelectedModel => Models.FirstOrDefault(m => m.Name == Settings.Model) ?? Models.FirstOrDefault();

    private IReadOnlyList<SizePreset> SizePresets
    {
        get
        {
            var w = SelectedModel?.NativeWidth ?? 128;
            var h = SelectedModel?.NativeHeight ?? 128;
            static int R(double v) => (int)Math.Round(v / 8) * 8;
            return
            [
                new("square", $"Square {w}×{h}", w, h),
                new("portrait", $"Portrait {R(w * 0.75)}×{h}", R(w * 0.75), h),
                new("landscape", $"Landscape {w}×{R(h * 0.75)}", w, R(h * 0.75)),
                new("large", $"Large {w * 2}×{h * 2}", w * 2, h * 2),
            ];
        }
    }

    private bool KarrasApplies => SamplerNames.SupportsKarras(Settings.Sampler);

    /// <summary>Off while the sampler ignores it; the choice itself is kept for when a sigma sampler is picked again.</summary>
    private bool KarrasShown => Settings.KarrasSigmas && KarrasApplies;

    private string? CurrentSizeKey => SizePresets.FirstOrDefault(p => p.Width == Settings.Width && p.Height == Settings.Height)?.Key;

    protected override void OnParametersSet()
    {
        if (string.IsNullOrEmpty(Settings.Model) && Models.Count > 0) Settings.Model = Models[0].Name;
    }

    private async Task OnSizeSelected(string? key)
    {
        var preset = SizePresets.FirstOrDefault(p => p.Key == key);
        if (preset is null) return;
        Settings.Width = preset.Width;
        Settings.Height = preset.Height;
        await Edited(Fields.Width);
        await Edited(Fields.Height);
    }

    private async Task OnSeedChanged(string? text)
    {
        if (long.TryParse(text?.Trim(), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var seed) && Seeds.IsValid(seed))
        {
            Settings.Seed = seed;
            _seedTyped = null;
        }
        else _seedTyped = text ?? "";
        await Edited(Fields.Seed);
    }

    private bool HasError(string field) => Errors is not null && Errors.ContainsKey(field);

    private string? ErrorFor(string field) => Errors is not null && Errors.TryGetValue(field, out var messages) ? string.Join(" ", messages) : null;

    private async Task Edited(string field)
    {
        Errors?.Remove(field);
        await OnEdited.InvokeAsync(field);
    }

    private static string Number(float value) => value.ToString("0.##", System.Globalization.CultureInfo.InvariantCulture);

    private async Task OnPromptKeyDown(KeyboardEventArgs e)
    {
        if (e.Key == "Enter" && (e.CtrlKey || e.MetaKey)) await SubmitAsync();
    }

    public async Task SubmitAsync()
    {
        if (Busy || _seedTyped is not null) return; // (the seed's message is under its field)
        var submitted = Settings.Clone();
        if (submitted.Seed < 0) submitted.Seed = GenerateRequestDto.RandomSeed();
        LastSeed = submitted.Seed;
        await OnGenerate.InvokeAsync(submitted);
    }
}

/// <summary>Sampler names as people know them (A1111's, as the PNG metadata writes them).</summary>
public static class SamplerNames
{
    public static string Display(SamplerKind sampler) => DiffusionGallery.Inference.Metadata.A1111SamplerNames.ToA1111(sampler);

    /// <summary>The sampler with its schedule, e.g. "DPM++ 2M Karras".</summary>
    public static string Display(GenerationSettings settings) =>
        settings.KarrasSigmas && SupportsKarras(settings.Sampler) ? $"{Display(settings.Sampler)} Karras" : Display(settings.Sampler);

    public static bool SupportsKarras(SamplerKind sampler) => DiffusionGallery.Inference.Scheduling.SamplerNames.SupportsKarras(sampler);
}
