namespace DiffusionGallery.Inference.Scheduling;

/// <summary>
/// The forward (noising) process q(xₜ | x₀) = 𝒩(√ᾱₜ·x₀, (1−ᾱₜ)·I): what img2img starts from and what a
/// "Diffusion Lab" view shows. Latents are in UNet space (already multiplied by the VAE scaling factor).
/// </summary>
public static class ForwardDiffusion
{
    /// <summary>destination = √ᾱ·clean + √(1−ᾱ)·noise.</summary>
    public static void AddNoise(ReadOnlySpan<float> clean, ReadOnlySpan<float> noise, double alphaCumprod, Span<float> destination)
    {
        if (noise.Length < clean.Length || destination.Length < clean.Length)
            throw new ArgumentException("noise and destination must be at least as long as the clean latent");
        var a = Math.Sqrt(alphaCumprod);
        var b = Math.Sqrt(1 - alphaCumprod);
        for (var i = 0; i < clean.Length; i++)
            destination[i] = (float)(a * clean[i] + b * noise[i]);
    }

    /// <summary>Noises to an integer training timestep (0 … T−1) of a schedule.</summary>
    public static void AddNoise(NoiseSchedule schedule, int timestep, ReadOnlySpan<float> clean, ReadOnlySpan<float> noise, Span<float> destination)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(timestep);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(timestep, schedule.TrainTimesteps);
        AddNoise(clean, noise, schedule.AlphasCumprod[timestep], destination);
    }
}
