using System.Globalization;

namespace DiffusionGallery.Web.Generation;

/// <summary>
/// The seeds a user may ask for, the same on every way in (form, REST, hub, A1111): 0 … <see cref="Max"/>. The engine
/// takes 64-bit seeds (Philox; image i of a job uses seed + i, and A1111's n_iter adds more); capping at 2^62 − 1
/// leaves room for every seed + i without wrapping round to a negative number. "Random" is no seed at all (null or
/// omitted; A1111's -1), never a negative number stored.
/// </summary>
public static class Seeds
{
    public const long Max = long.MaxValue / 2;

    public static bool IsValid(long seed) => seed is >= 0 and <= Max;

    /// <summary>The one sentence every surface shows for an out-of-range seed.</summary>
    public static readonly string RangeMessage =
        $"Seed must be a whole number from 0 to {Max.ToString(CultureInfo.InvariantCulture)}; leave it out (or null) for a random seed.";
}
