namespace DiffusionGallery.Inference.Abstractions;

/// <summary>
/// Where a joinable run's step loop spent an interval of its wall time (<see cref="IRunFeed.LoopReport"/>): stepping
/// (the UNet call and the host's work around it, joiners admitted and members leaving included), waiting for joiners
/// that are being admitted on the engine's side thread, and the rest (between steps); and how full its UNet calls were.
/// </summary>
/// <param name="Wall">The interval.</param>
/// <param name="Stepping">Within it, the steps' wall time.</param>
/// <param name="Waiting">Within it, time with nothing to step until a joiner's admission was done.</param>
/// <param name="Unet">Within the steps, the UNet calls.</param>
/// <param name="Steps">UNet steps.</param>
/// <param name="ImageSteps">Images summed over those steps (a step of 20 images counts 20).</param>
/// <param name="SideBusy">
/// Within the interval, the engine's side threads' time running work (admitting joiners, decoding leavers; summed over
/// the side thread and, with <c>DecodeThread</c>, the decoding thread; zero without them): near <paramref name="Wall"/>
/// per thread it is the queue those wait in.
/// </param>
public sealed record RunLoopReport(TimeSpan Wall, TimeSpan Stepping, TimeSpan Waiting, TimeSpan Unet, int Steps, long ImageSteps,
    TimeSpan SideBusy = default)
{
    /// <summary>Images a UNet call on average.</summary>
    public double ImagesPerStep => Steps == 0 ? 0 : (double)ImageSteps / Steps;

    /// <summary><paramref name="part"/> as a percentage of <see cref="Wall"/>.</summary>
    public double Percent(TimeSpan part) => Wall <= TimeSpan.Zero ? 0 : 100 * (part / Wall);
}
