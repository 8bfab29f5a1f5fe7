namespace DiffusionGallery.Inference.Noise;

/// <summary>
/// Gaussian noise from a Philox4x32-10 counter-based generator and Box–Muller, bit-compatible with
/// AUTOMATIC1111's <c>rng_philox</c> ("NV" source, which reproduces CUDA <c>torch.randn</c>):
/// key = the 64-bit seed split into its low and high 32 bits, counter = (offset, 0, index, 0),
/// one normal value per index from the first two output words, Box–Muller evaluated in double and
/// rounded to float. Each call to <see cref="Fill"/> uses the next offset, so a job's initial latent
/// is offset 0 and each later noise draw uses offsets 1, 2, …
/// The sequence depends on nothing but (seed, offset, index): identical on every machine and provider.
/// </summary>
public sealed class PhiloxNoiseGenerator
{
    private const uint MultiplierA = 0xD2511F53;
    private const uint MultiplierB = 0xCD9E8D57;
    private const uint WeylA = 0x9E3779B9;
    private const uint WeylB = 0xBB67AE85;
    private const int Rounds = 10;
    private const double TwoPow32Inverse = 1.0 / 4294967296.0;
    private const double TwoPow32InverseTwoPi = 2.0 * Math.PI / 4294967296.0;

    public PhiloxNoiseGenerator(ulong seed, uint offset = 0)
    {
        Seed = seed;
        Offset = offset;
    }

    public ulong Seed { get; }

    /// <summary>The offset the next <see cref="Fill"/> call will use.</summary>
    public uint Offset { get; private set; }

    /// <summary>Fills <paramref name="destination"/> (C-order) with standard normal values and advances the offset.</summary>
    public void Fill(Span<float> destination)
    {
        Fill(Seed, Offset, destination);
        Offset++;
    }

    /// <summary>Stateless form: the values a generator with this seed produces at this offset.</summary>
    public static void Fill(ulong seed, uint offset, Span<float> destination)
    {
        var keyLow = (uint)seed;
        var keyHigh = (uint)(seed >> 32);
        for (var i = 0; i < destination.Length; i++)
        {
            var (g0, g1) = Block(offset, 0, (uint)i, 0, keyLow, keyHigh);
            destination[i] = BoxMuller(g0, g1);
        }
    }

    internal static float BoxMuller(uint x, uint y)
    {
        var u = (x + 0.5) * TwoPow32Inverse;
        var v = (y + 0.5) * TwoPow32InverseTwoPi;
        var s = Math.Sqrt(-2.0 * Math.Log(u));
        return (float)(s * Math.Sin(v));
    }

    /// <summary>Philox4x32-10; returns the first two of the four output words.</summary>
    internal static (uint First, uint Second) Block(uint c0, uint c1, uint c2, uint c3, uint k0, uint k1)
    {
        var (a, b, _, _) = Block4(c0, c1, c2, c3, k0, k1);
        return (a, b);
    }

    /// <summary>Philox4x32-10 (Salmon et al. 2011): all four output words.</summary>
    internal static (uint, uint, uint, uint) Block4(uint c0, uint c1, uint c2, uint c3, uint k0, uint k1)
    {
        for (var round = 0; round < Rounds; round++)
        {
            var productA = (ulong)c0 * MultiplierA;
            var productB = (ulong)c2 * MultiplierB;
            var n0 = (uint)(productB >> 32) ^ c1 ^ k0;
            var n1 = (uint)productB;
            var n2 = (uint)(productA >> 32) ^ c3 ^ k1;
            var n3 = (uint)productA;
            c0 = n0;
            c1 = n1;
            c2 = n2;
            c3 = n3;
            k0 += WeylA;
            k1 += WeylB;
        }

        return (c0, c1, c2, c3);
    }
}
