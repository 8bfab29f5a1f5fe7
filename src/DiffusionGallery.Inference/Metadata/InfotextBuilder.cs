using System.Globalization;
using DiffusionGallery.Inference.Abstractions;

namespace DiffusionGallery.Inference.Metadata;

/// <summary>Builds the A1111 <c>parameters</c> text for our settings, keys in A1111's order.</summary>
public static class InfotextBuilder
{
    public static string Build(GenerationMetadata m)
    {
        var kind = Enum.TryParse<SamplerKind>(m.Sampler, out var k) ? k : (SamplerKind?)null;
        var settings = new List<KeyValuePair<string, string?>>
        {
            new("Steps", Number(m.Steps)),
            new("Sampler", kind is { } s ? A1111SamplerNames.ToA1111(s) : m.Sampler),
            new("CFG scale", Number(m.GuidanceScale)),
            new("Seed", m.Seed.ToString(CultureInfo.InvariantCulture)),
            new("Size", $"{m.Width}x{m.Height}"),
            new("Model hash", m.ModelHash),
            new("Model", m.Model),
            new("Denoising strength", m.Strength is { } strength ? Number(strength) : null),
            new("Init image hash", m.InitImageHash is { } h ? h[..Math.Min(10, h.Length)] : null),
            new("Schedule type", m.KarrasSigmas ? "Karras" : null),
            new("Eta DDIM", kind == SamplerKind.Ddim && m.Eta != 0 ? Number(m.Eta) : null),
            new("CFG Rescale", m.GuidanceRescale != 0 ? Number(m.GuidanceRescale) : null),
            new("Temperature", m.Temperature != 1f ? Number(m.Temperature) : null),
            new("Version", m.Generator),
        };
        return A1111Parameters.Format(m.Prompt, m.NegativePrompt, settings);
    }

    internal static string Number(double value) => value.ToString("R", CultureInfo.InvariantCulture);

    internal static string Number(float value) => value.ToString("R", CultureInfo.InvariantCulture);
}
