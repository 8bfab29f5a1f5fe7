using System.Text.Json.Serialization;
using DiffusionGallery.Inference.Abstractions;
using DiffusionGallery.Inference.Metadata;
using DiffusionGallery.Inference.Scheduling;

namespace DiffusionGallery.Web.A1111;

/// <summary><c>GET /sdapi/v1/samplers</c> item.</summary>
public sealed record A1111SamplerItem(
    [property: JsonPropertyName("name")] string Name,
    [property: JsonPropertyName("aliases")] IReadOnlyList<string> Aliases,
    [property: JsonPropertyName("options")] IReadOnlyDictionary<string, string> Options);

/// <summary><c>GET /sdapi/v1/schedulers</c> item.</summary>
public sealed record A1111SchedulerItem(
    [property: JsonPropertyName("name")] string Name,
    [property: JsonPropertyName("label")] string Label,
    [property: JsonPropertyName("aliases")] IReadOnlyList<string>? Aliases,
    [property: JsonPropertyName("default_rho")] double DefaultRho,
    [property: JsonPropertyName("need_inner_model")] bool NeedInnerModel);

/// <summary>
/// A1111's sampler and scheduler names for our samplers. A1111 ≥ 1.9 sends <c>sampler_name</c> "DPM++ 2M" plus
/// <c>scheduler</c> "Karras"; older clients send "DPM++ 2M Karras"; k-diffusion aliases ("k_euler_a") work too.
/// </summary>
public static class A1111Samplers
{
    private sealed record Entry(SamplerKind Kind, string[] Aliases, Dictionary<string, string> Options);

    private static readonly Entry[] Entries =
    [
        new(SamplerKind.DpmPlusPlus2M, ["k_dpmpp_2m"], new() { ["scheduler"] = "karras" }),
        new(SamplerKind.EulerAncestral, ["k_euler_a", "k_euler_ancestral"], new() { ["uses_ensd"] = "True" }),
        new(SamplerKind.Euler, ["k_euler"], []),
        new(SamplerKind.Lms, ["k_lms"], []),
        new(SamplerKind.Ddim, ["ddim"], []),
        new(SamplerKind.Ddpm, ["ddpm"], []),
        new(SamplerKind.Lcm, ["k_lcm"], []),
    ];

    public static IReadOnlyList<A1111SamplerItem> Samplers { get; } =
        Entries.Select(e => new A1111SamplerItem(A1111SamplerNames.ToA1111(e.Kind), e.Aliases, e.Options)).ToList();

    public static IReadOnlyList<A1111SchedulerItem> Schedulers { get; } =
    [
        new("automatic", "Automatic", null, -1, false),
        new("uniform", "Uniform", null, -1, true),
        new("karras", "Karras", null, 7.0, false),
    ];

    /// <summary>
    /// Our sampler and Karras choice for A1111's names; null when the sampler is unknown. No sampler at all takes the
    /// model's recommendation. "Automatic" is the sampler's own default (Karras for DPM++ 2M, as in A1111 ≥ 1.9).
    /// Schedulers we do not have fall back to Automatic with a warning.
    /// </summary>
    public static (SamplerKind Kind, bool Karras)? Resolve(string? samplerName, string? scheduler, ModelDescriptor model, ICollection<string> warnings)
    {
        if (string.IsNullOrWhiteSpace(samplerName))
        {
            var recommended = (model.RecommendedSampler, model.RecommendedKarras);
            return ApplyScheduler(recommended.RecommendedSampler, recommended.RecommendedKarras, scheduler, warnings);
        }
        var name = samplerName.Trim();
        var suffixKarras = false;
        if (name.EndsWith(" Karras", StringComparison.OrdinalIgnoreCase))
        {
            suffixKarras = true;
            name = name[..^" Karras".Length].TrimEnd();
        }
        var entry = Entries.FirstOrDefault(e => string.Equals(A1111SamplerNames.ToA1111(e.Kind), name, StringComparison.OrdinalIgnoreCase)
                                                || e.Aliases.Contains(name, StringComparer.OrdinalIgnoreCase));
        if (entry is null) return null;
        var automatic = suffixKarras || entry.Options.GetValueOrDefault("scheduler") == "karras";
        return ApplyScheduler(entry.Kind, automatic, suffixKarras && string.IsNullOrWhiteSpace(scheduler) ? "karras" : scheduler, warnings);
    }

    private static (SamplerKind, bool) ApplyScheduler(SamplerKind kind, bool automatic, string? scheduler, ICollection<string> warnings)
    {
        bool karras;
        switch (scheduler?.Trim().ToLowerInvariant())
        {
            case null or "" or "automatic":
                karras = automatic;
                break;
            case "karras":
                karras = true;
                break;
            case "uniform":
                karras = false;
                break;
            default:
                warnings.Add($"Schedule type '{scheduler}' is not supported (Automatic, Uniform and Karras are); Automatic was used.");
                karras = automatic;
                break;
        }
        if (karras && !SamplerNames.SupportsKarras(kind))
        {
            if (string.Equals(scheduler?.Trim(), "karras", StringComparison.OrdinalIgnoreCase))
                warnings.Add($"{A1111SamplerNames.ToA1111(kind)} does not use Karras sigmas; its own schedule was used.");
            karras = false;
        }
        return (kind, karras);
    }

    public static string SchedulerLabel(bool karras) => karras ? "Karras" : "Uniform";

    public static string Available => string.Join(", ", Samplers.Select(s => s.Name));
}
