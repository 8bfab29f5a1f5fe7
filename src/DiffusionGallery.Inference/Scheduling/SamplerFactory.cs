using DiffusionGallery.Inference.Abstractions;

namespace DiffusionGallery.Inference.Scheduling;

/// <summary>Creates the sampler for a request from a model's scheduler config.</summary>
public static class SamplerFactory
{
    public static Sampler Create(SamplerKind kind, NoiseSchedule schedule, int steps, bool karrasSigmas = false, double eta = 0) => kind switch
    {
        SamplerKind.Ddim => new DdimSampler(schedule, steps, eta),
        SamplerKind.Ddpm => new DdpmSampler(schedule, steps),
        SamplerKind.Euler => new EulerSampler(schedule, steps, karrasSigmas),
        SamplerKind.EulerAncestral => new EulerAncestralSampler(schedule, steps, karrasSigmas),
        SamplerKind.Lms => new LmsSampler(schedule, steps, karrasSigmas),
        SamplerKind.DpmPlusPlus2M => new DpmSolverMultistepSampler(schedule, steps, karrasSigmas),
        SamplerKind.Lcm => new LcmSampler(schedule, steps),
        _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, "Unknown sampler."),
    };
}
