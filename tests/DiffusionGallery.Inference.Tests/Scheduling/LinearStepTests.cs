using DiffusionGallery.Inference.Abstractions;
using DiffusionGallery.Inference.Scheduling;

namespace DiffusionGallery.Inference.Tests.Scheduling;

/// <summary>
/// The samplers' steps as linear updates (what the latent step graph runs): for DPM++ 2M (Karras and not) and Euler,
/// over ε, v and sample prediction, a whole 25-step trajectory through <see cref="Sampler.TakeLinearStep"/> matches the
/// sampler's own <see cref="Sampler.Step"/> within float rounding; handing the history back (<see cref="Sampler.AdoptHistory"/>)
/// lets the host's steps continue it; samplers with noise have no linear step.
/// </summary>
public sealed class LinearStepTests
{
    private static NoiseSchedule Schedule(string prediction) => new(SchedulerConfig.StableDiffusion with { PredictionType = prediction });

    /// <summary>A model output that depends on the latent and the step (so errors would compound), deterministic.</summary>
    private static float[] ModelOutput(ReadOnlySpan<float> x, int step)
    {
        var output = new float[x.Length];
        for (var i = 0; i < x.Length; i++)
            output[i] = (float)(0.6 * x[i] + 0.3 * Math.Sin(0.37 * i + step));
        return output;
    }

    private static float[] Noise(int length, int seed)
    {
        var random = new Random(seed);
        return Enumerable.Range(0, length).Select(_ => (float)(random.NextDouble() * 2 - 1)).ToArray();
    }

    [Theory]
    [InlineData(SamplerKind.DpmPlusPlus2M, true, "epsilon")]
    [InlineData(SamplerKind.DpmPlusPlus2M, false, "epsilon")]
    [InlineData(SamplerKind.DpmPlusPlus2M, true, "v_prediction")]
    [InlineData(SamplerKind.DpmPlusPlus2M, true, "sample")]
    [InlineData(SamplerKind.Euler, true, "epsilon")]
    [InlineData(SamplerKind.Euler, false, "v_prediction")]
    public void LinearSteps_FollowTheSamplersOwnSteps(SamplerKind kind, bool karras, string prediction)
    {
        const int steps = 25, length = 256;
        var host = SamplerFactory.Create(kind, Schedule(prediction), steps, karras);
        var linear = SamplerFactory.Create(kind, Schedule(prediction), steps, karras);
        Assert.True(linear.StepsLinearly);
        var x = Noise(length, 7).Select(v => (float)(v * host.InitNoiseSigma)).ToArray();
        var y = (float[])x.Clone();
        var denoised = new float[length];
        var previous = new float[length];
        for (var step = 0; step < steps; step++)
        {
            host.Step(step, ModelOutput(x, step), x, default, denoised);
            var output = ModelOutput(y, step);
            Assert.True(linear.TakeLinearStep(step, out var c));
            var nextPrevious = new float[length];
            for (var i = 0; i < length; i++)
                (nextPrevious[i], y[i]) = c.Apply(y[i], output[i], previous[i]);
            previous = nextPrevious;
            for (var i = 0; i < length; i++)
                Assert.True(Math.Abs(x[i] - y[i]) <= 1e-4 * (1 + Math.Abs(x[i])), $"step {step} value {i}: {x[i]} against {y[i]}");
        }
    }

    [Fact]
    public void HistoryHandedBack_TheHostContinues_AsIfItHadTakenEveryStep()
    {
        const int steps = 10, length = 64;
        var schedule = Schedule("epsilon");
        var host = SamplerFactory.Create(SamplerKind.DpmPlusPlus2M, schedule, steps, karrasSigmas: true);
        var mixed = SamplerFactory.Create(SamplerKind.DpmPlusPlus2M, schedule, steps, karrasSigmas: true);
        var x = Noise(length, 3).Select(v => (float)(v * host.InitNoiseSigma)).ToArray();
        var y = (float[])x.Clone();
        var denoised = new float[length];
        var previous = new float[length];
        for (var step = 0; step < steps; step++)
        {
            host.Step(step, ModelOutput(x, step), x, default, denoised);
            var output = ModelOutput(y, step);
            if (step < 4)
            {
                mixed.TakeLinearStep(step, out var c);
                for (var i = 0; i < length; i++)
                    (previous[i], y[i]) = c.Apply(y[i], output[i], previous[i]);
                if (step == 3)
                    mixed.AdoptHistory(previous);
            }
            else
            {
                mixed.Step(step, output, y, default, previous);
            }
        }

        for (var i = 0; i < length; i++)
            Assert.True(Math.Abs(x[i] - y[i]) <= 1e-4 * (1 + Math.Abs(x[i])), $"value {i}: {x[i]} against {y[i]}");
    }

    [Fact]
    public void WithoutTheHistoryHandedBack_ASecondOrderHostStepRefuses()
    {
        var sampler = SamplerFactory.Create(SamplerKind.DpmPlusPlus2M, Schedule("epsilon"), 10, karrasSigmas: true);
        sampler.TakeLinearStep(0, out _);
        var x = new float[16];
        Assert.Throws<InvalidOperationException>(() => sampler.Step(1, new float[16], x, default, new float[16]));
    }

    [Theory]
    [InlineData(SamplerKind.EulerAncestral)]
    [InlineData(SamplerKind.Ddim)]
    [InlineData(SamplerKind.Lms)]
    public void OtherSamplers_HaveNoLinearStep(SamplerKind kind)
    {
        var sampler = SamplerFactory.Create(kind, Schedule("epsilon"), 10);
        Assert.False(sampler.StepsLinearly);
        Assert.False(sampler.TakeLinearStep(0, out _));
    }
}
