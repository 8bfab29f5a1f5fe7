using DiffusionGallery.Inference.Abstractions;

namespace DiffusionGallery.Inference.Pipeline;

/// <summary>One setting of the request (named as the <see cref="GenerationRequest"/> property) is not acceptable.</summary>
public class InvalidSettingException(string setting, string message) : InvalidGenerationRequestException(message)
{
    public string Setting { get; } = setting;
}

/// <summary>A numeric setting outside its allowed range.</summary>
public sealed class SettingOutOfRangeException(string setting, string message) : InvalidSettingException(setting, message);

/// <summary>The request names a model that is not in the models folder.</summary>
public sealed class UnknownModelException(string model, IEnumerable<string> available)
    : InvalidGenerationRequestException($"Unknown model '{model}'. Available: {string.Join(", ", available)}.")
{
    public string Model { get; } = model;
}

/// <summary>The sampler value is not one of <see cref="SamplerKind"/>.</summary>
public sealed class UnknownSamplerException(string sampler)
    : InvalidGenerationRequestException($"Unknown sampler '{sampler}'. Known: {string.Join(", ", Enum.GetNames<SamplerKind>())}.");

/// <summary>The request is valid in general but the chosen model cannot do it (LCM on a non-LCM model, img2img without a VAE encoder).</summary>
public sealed class UnsupportedByModelException(string message) : InvalidGenerationRequestException(message);
