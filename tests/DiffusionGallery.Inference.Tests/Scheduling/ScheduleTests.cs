using DiffusionGallery.Inference.Abstractions;
using DiffusionGallery.Inference.Scheduling;
using DiffusionGallery.Inference.Tests.Support;

namespace DiffusionGallery.Inference.Tests.Scheduling;

public sealed class ScheduleTests
{
    private static readonly NoiseSchedule Sd15 = new(SchedulerConfig.StableDiffusion);

    [Fact]
    public void SigmaTable_HasStableDiffusionBounds()
    {
        Assert.Equal(14.6146, Sd15.SigmaTable[^1], 4);
        Assert.Equal(0.02917, Sd15.SigmaTable[0], 5);
    }

    [Fact]
    public void Ddim_LeadingSpacingWithOffset_Visits951DownTo1()
    {
        var sampler = SamplerFactory.Create(SamplerKind.Ddim, Sd15, 20);

        Assert.Equal(951, sampler.Timesteps[0]);
        Assert.Equal(1, sampler.Timesteps[^1]);
        Assert.All(sampler.Timesteps.Zip(sampler.Timesteps.Skip(1)), p => Assert.Equal(50, p.First - p.Second));
    }

    [Fact]
    public void Trailing_StartsAt999()
    {
        var config = SchedulerConfig.StableDiffusion with { TimestepSpacing = "trailing" };
        var sampler = SamplerFactory.Create(SamplerKind.Ddim, new NoiseSchedule(config), 20);

        Assert.Equal([999, 949, 899], sampler.Timesteps.Take(3));
        Assert.Equal(49, sampler.Timesteps[^1]);
    }

    [Fact]
    public void Euler_LinspaceSigmasEndAtZeroAndInitSigmaIsMax()
    {
        var sampler = SamplerFactory.Create(SamplerKind.Euler, Sd15, 25);

        Assert.Equal(26, sampler.Sigmas.Count);
        Assert.Equal(0, sampler.Sigmas[^1]);
        Assert.Equal(999, sampler.Timesteps[0], 9);
        Assert.Equal(14.6146, sampler.InitNoiseSigma, 4);
        Assert.Equal(1 / Math.Sqrt(sampler.Sigmas[0] * sampler.Sigmas[0] + 1), sampler.InputScale(0), 6);
    }

    [Fact]
    public void DpmPlusPlus_LinspaceDropsTimestepZero()
    {
        var sampler = SamplerFactory.Create(SamplerKind.DpmPlusPlus2M, Sd15, 25);

        Assert.Equal(999, sampler.Timesteps[0]);
        Assert.Equal(40, sampler.Timesteps[^1]);
        Assert.Equal(1.0, sampler.InitNoiseSigma);
    }

    [Fact]
    public void Karras_SigmasFollowRho7BetweenTableBounds()
    {
        var sampler = SamplerFactory.Create(SamplerKind.DpmPlusPlus2M, Sd15, 10, karrasSigmas: true);

        Assert.Equal(Sd15.SigmaTable[^1], sampler.Sigmas[0], 9);
        Assert.Equal(Sd15.SigmaTable[0], sampler.Sigmas[9], 9);
        var mid = Math.Pow(Math.Pow(Sd15.SigmaTable[^1], 1 / 7.0) + 0.5 * (Math.Pow(Sd15.SigmaTable[0], 1 / 7.0) - Math.Pow(Sd15.SigmaTable[^1], 1 / 7.0)), 7);
        Assert.Equal(mid, NoiseSchedule.KarrasSigmas(Sd15.SigmaTable[0], Sd15.SigmaTable[^1], 3)[1], 9);
    }

    [Fact]
    public void SigmaToTimestep_InvertsTheTable()
    {
        Assert.Equal(500, Sd15.SigmaToTimestep(Sd15.SigmaTable[500]), 6);
        Assert.Equal(0, Sd15.SigmaToTimestep(1e-6), 6);
    }

    [Fact]
    public void Lcm_PicksFromFiftyOriginalSteps()
    {
        var sampler = SamplerFactory.Create(SamplerKind.Lcm, Sd15, 4);

        Assert.Equal([999, 759, 499, 259], sampler.Timesteps);
    }

    [Fact]
    public void Golden_TimestepsAndSigmasMatchReference()
    {
        using var doc = Golden.Load("schedules.json");
        var config = SchedulerConfig.Parse(File.ReadAllText(Path.Combine(TestPaths.RequireTinyModel(), "scheduler", "scheduler_config.json")));
        var schedule = new NoiseSchedule(config);
        var count = 0;
        foreach (var c in doc.RootElement.GetProperty("cases").EnumerateArray())
        {
            Assert.True(SamplerNames.TryParse(c.GetProperty("sampler").GetString(), out var kind));
            var steps = c.GetProperty("steps").GetInt32();
            var karras = c.GetProperty("karras").GetBoolean();
            var sampler = SamplerFactory.Create(kind, schedule, steps, karras);
            var label = $"{kind} karras={karras} steps={steps}";
            AssertClose(Golden.Doubles(c.GetProperty("timesteps")), sampler.Timesteps, label + " timesteps");
            AssertClose(Golden.Doubles(c.GetProperty("sigmas")), sampler.Sigmas, label + " sigmas");
            count++;
        }

        Assert.True(count > 0);
    }

    private static void AssertClose(IReadOnlyList<double> expected, IReadOnlyList<double> actual, string label)
    {
        Assert.True(expected.Count == actual.Count, $"{label}: {actual.Count} values, expected {expected.Count}");
        for (var i = 0; i < expected.Count; i++)
        {
            var tolerance = 1e-6 * Math.Max(1, Math.Abs(expected[i]));
            Assert.True(Math.Abs(expected[i] - actual[i]) <= tolerance, $"{label}[{i}]: {actual[i]} vs {expected[i]}");
        }
    }
}
