using DiffusionGallery.Inference.Noise;
using DiffusionGallery.Inference.Tests.Support;

namespace DiffusionGallery.Inference.Tests.Noise;

public sealed class PhiloxNoiseGeneratorTests
{
    // Known-answer vectors of Random123's kat_vectors for philox4x32 with 10 rounds.
    [Theory]
    [InlineData(0u, 0u, 0u, 0u, 0u, 0u, 0x6627e8d5u, 0xe169c58du, 0xbc57ac4cu, 0x9b00dbd8u)]
    [InlineData(0xffffffffu, 0xffffffffu, 0xffffffffu, 0xffffffffu, 0xffffffffu, 0xffffffffu, 0x408f276du, 0x41c83b0eu, 0xa20bc7c6u, 0x6d5451fdu)]
    [InlineData(0x243f6a88u, 0x85a308d3u, 0x13198a2eu, 0x03707344u, 0xa4093822u, 0x299f31d0u, 0xd16cfe09u, 0x94fdccebu, 0x5001e420u, 0x24126ea1u)]
    public void Block_MatchesPhiloxKnownAnswers(uint c0, uint c1, uint c2, uint c3, uint k0, uint k1, uint e0, uint e1, uint e2, uint e3)
    {
        Assert.Equal((e0, e1, e2, e3), PhiloxNoiseGenerator.Block4(c0, c1, c2, c3, k0, k1));
    }

    [Fact]
    public void Fill_AdvancesOffsetAndMatchesStatelessForm()
    {
        var generator = new PhiloxNoiseGenerator(42);
        var first = new float[16];
        var second = new float[16];
        generator.Fill(first);
        generator.Fill(second);

        var expectedSecond = new float[16];
        PhiloxNoiseGenerator.Fill(42, 1, expectedSecond);
        Assert.Equal(2u, generator.Offset);
        Assert.Equal(expectedSecond, second);
        Assert.NotEqual(first, second);
    }

    [Fact]
    public void Fill_UsesBothHalvesOfTheSeed()
    {
        var low = new float[8];
        var high = new float[8];
        PhiloxNoiseGenerator.Fill(1UL, 0, low);
        PhiloxNoiseGenerator.Fill(1UL << 32, 0, high);

        Assert.NotEqual(low, high);
    }

    [Fact]
    public void Fill_ProducesStandardNormalValues()
    {
        var values = new float[200_000];
        PhiloxNoiseGenerator.Fill(7, 0, values);
        var mean = values.Average(v => (double)v);
        var variance = values.Average(v => (v - mean) * (v - mean));

        Assert.InRange(mean, -0.01, 0.01);
        Assert.InRange(variance, 0.98, 1.02);
    }

    [Fact]
    public void Golden_NoiseEqualsReferenceExactly()
    {
        using var doc = Golden.Load("noise.json");
        var count = 0;
        foreach (var c in doc.RootElement.GetProperty("cases").EnumerateArray())
        {
            var seed = c.GetProperty("seed").GetUInt64();
            var offset = c.GetProperty("offset").GetUInt32();
            var expected = Golden.Floats(c.GetProperty("values"));
            var actual = new float[expected.Length];
            PhiloxNoiseGenerator.Fill(seed, offset, actual);
            Assert.Equal(expected, actual);
            count++;
        }

        Assert.True(count > 0);
    }
}
