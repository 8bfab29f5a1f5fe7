using DiffusionGallery.Inference.Abstractions;

namespace DiffusionGallery.Inference.Metadata;

/// <summary>Sampler names as AUTOMATIC1111 writes them in infotext.</summary>
public static class A1111SamplerNames
{
    public static string ToA1111(SamplerKind kind) => kind switch
    {
        SamplerKind.Ddim => "DDIM",
        SamplerKind.Ddpm => "DDPM",
        SamplerKind.Euler => "Euler",
        SamplerKind.EulerAncestral => "Euler a",
        SamplerKind.Lms => "LMS",
        SamplerKind.DpmPlusPlus2M => "DPM++ 2M",
        SamplerKind.Lcm => "LCM",
        _ => kind.ToString(),
    };

    /// <summary>Parses A1111 names, including the pre-1.6 form with a "Karras" suffix.</summary>
    public static (SamplerKind Kind, bool Karras)? FromA1111(string name, string? scheduleType = null)
    {
        var karras = string.Equals(scheduleType, "Karras", StringComparison.OrdinalIgnoreCase);
        var trimmed = name.Trim();
        if (trimmed.EndsWith(" Karras", StringComparison.OrdinalIgnoreCase))
        {
            karras = true;
            trimmed = trimmed[..^7];
        }

        SamplerKind? kind = trimmed switch
        {
            "DDIM" => SamplerKind.Ddim,
            "DDPM" => SamplerKind.Ddpm,
            "Euler" => SamplerKind.Euler,
            "Euler a" => SamplerKind.EulerAncestral,
            "LMS" => SamplerKind.Lms,
            "DPM++ 2M" => SamplerKind.DpmPlusPlus2M,
            "LCM" => SamplerKind.Lcm,
            _ => null,
        };
        return kind is { } k ? (k, karras) : null;
    }
}
