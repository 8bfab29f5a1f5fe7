using DiffusionGallery.Inference.Abstractions;

namespace DiffusionGallery.Inference.Scheduling;

/// <summary>Short sampler names used in diffusion_gallery.json, golden files and the command line.</summary>
public static class SamplerNames
{
    private static readonly (string Name, SamplerKind Kind)[] Table =
    [
        ("ddim", SamplerKind.Ddim),
        ("ddpm", SamplerKind.Ddpm),
        ("euler", SamplerKind.Euler),
        ("euler_a", SamplerKind.EulerAncestral),
        ("lms", SamplerKind.Lms),
        ("dpmpp_2m", SamplerKind.DpmPlusPlus2M),
        ("lcm", SamplerKind.Lcm),
    ];

    public static IEnumerable<string> All => Table.Select(t => t.Name);

    public static string ToName(SamplerKind kind) => Table.First(t => t.Kind == kind).Name;

    public static bool TryParse(string? name, out SamplerKind kind)
    {
        foreach (var (n, k) in Table)
        {
            if (string.Equals(n, name, StringComparison.OrdinalIgnoreCase) || string.Equals(k.ToString(), name, StringComparison.OrdinalIgnoreCase))
            {
                kind = k;
                return true;
            }
        }

        kind = default;
        return false;
    }

    /// <summary>Samplers whose schedule can use Karras sigmas.</summary>
    public static bool SupportsKarras(SamplerKind kind) =>
        kind is SamplerKind.Euler or SamplerKind.EulerAncestral or SamplerKind.Lms or SamplerKind.DpmPlusPlus2M;
}
