using DiffusionGallery.Inference.Abstractions;
using DiffusionGallery.Web.Errors;
using DiffusionGallery.Inference.Pipeline;
using DiffusionGallery.Inference.Scheduling;
using DiffusionGallery.Web.Uploads;

namespace DiffusionGallery.Web.Lab;

/// <summary>One forward-diffusion frame: the image noised to training timestep <see cref="T"/> and decoded.</summary>
/// <param name="Png">A data URL (image/png).</param>
public sealed record ForwardFrame(int T, double AlphaBar, string Png)
{
    /// <summary>√ᾱ: how much of the image is left.</summary>
    public double SignalScale => Math.Sqrt(AlphaBar);
    /// <summary>√(1−ᾱ): how much noise was mixed in.</summary>
    public double NoiseScale => Math.Sqrt(1 - AlphaBar);
}

/// <summary>
/// The Lab's forward process q(xₜ | x₀) = 𝒩(√ᾱₜ·x₀, (1−ᾱₜ)·I) on a reference image: VAE-encode, noise the latent to each
/// timestep with one seed (so frames differ only in t), decode. Cheap (no UNet), so it runs directly on the engine rather
/// than as a queued job; the engine serialises it with jobs.
/// </summary>
public sealed class ForwardDiffusionService(DiffusionImageGenerator engine, IImageSourceResolver sources)
{
    public const int MaxTimesteps = 16;

    /// <summary>The default model's training schedule (ᾱ for t = 0 … T−1).</summary>
    public NoiseSchedule Schedule() => new(engine.ResolveModel(null).Scheduler);

    public ModelDescriptor Model => engine.ResolveModel(null).Descriptor;

    /// <returns>Null when the source is not one the user may see.</returns>
    /// <exception cref="RequestInvalidException">Bad timesteps or source.</exception>
    public async Task<IReadOnlyList<ForwardFrame>?> NoiseAsync(string userId, ImageSourceRef source, IReadOnlyList<int> timesteps, long seed, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(source);
        source.ThrowIfInvalid("source");
        var schedule = Schedule();
        if (timesteps is null || timesteps.Count == 0 || timesteps.Count > MaxTimesteps)
            throw new RequestInvalidException("timesteps", $"Give between 1 and {MaxTimesteps} timesteps.");
        if (timesteps.Any(t => t < 0 || t >= schedule.TrainTimesteps))
            throw new RequestInvalidException("timesteps", $"Timesteps must be between 0 and {schedule.TrainTimesteps - 1}.");

        var resolved = await sources.ResolveAsync(userId, source, cancellationToken);
        if (resolved is null) return null;
        var model = Model;
        var fitted = ReferenceImageFitter.Fit(resolved.Png, model.NativeWidth, model.NativeHeight, ReferenceImageFit.Crop);
        var frames = new List<ForwardFrame>(timesteps.Count);
        foreach (var t in timesteps)
        {
            var result = await engine.NoiseImageAsync(new ForwardNoiseRequest
            {
                Image = fitted, Timestep = t, Seed = seed, Width = model.NativeWidth, Height = model.NativeHeight,
            }, cancellationToken);
            frames.Add(new ForwardFrame(t, result.AlphaCumprod, "data:image/png;base64," + Convert.ToBase64String(result.Png)));
        }
        return frames;
    }
}
