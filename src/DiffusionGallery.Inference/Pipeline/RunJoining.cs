using DiffusionGallery.Inference.Abstractions;

namespace DiffusionGallery.Inference.Pipeline;

/// <summary>
/// What lets a running shared run take new members at its step boundaries (continuous batching): <see cref="Take"/>
/// is asked, with the number of free image places, before each UNet call and returns members that are new to the run
/// (validated, same batch key; empty when none); <see cref="Finished"/> receives each member once as it leaves the
/// loop — decoded, failed or cancelled —, those that left at the same step together, on the loop's thread, so it must
/// not block. <see cref="Report"/> (optional) receives where the step loop's time went, every few seconds and when it drains.
/// </summary>
internal sealed record RunJoining(int MaxImages, Func<int, IReadOnlyList<BatchMember>> Take, Action<IReadOnlyList<BatchMember>> Finished,
    Action<RunLoopReport>? Report = null);
