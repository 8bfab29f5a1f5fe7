using System.Buffers.Text;
using DiffusionGallery.Web.Sharing;

namespace DiffusionGallery.Web.Tests.Sharing;

public sealed class ShareTokenTests
{
    [Fact]
    public void New_Is32UrlSafeCharacters_Carrying192Bits()
    {
        var token = ShareTokens.New();
        Assert.Equal(32, token.Length);
        Assert.True(ShareTokens.IsWellFormed(token));
        Assert.Equal(24, Base64Url.DecodeFromChars(token).Length);
        Assert.True(ShareTokens.Bytes * 8 >= 128);
    }

    [Fact]
    public void HundredThousandTokens_AreUnique_AndEveryBitIsBalanced()
    {
        const int n = 100_000;
        var seen = new HashSet<string>(n, StringComparer.Ordinal);
        var ones = new int[ShareTokens.Bytes * 8];
        for (var i = 0; i < n; i++)
        {
            var token = ShareTokens.New();
            Assert.True(seen.Add(token), $"duplicate token after {i} tokens");
            var bytes = Base64Url.DecodeFromChars(token);
            for (var bit = 0; bit < ones.Length; bit++)
                if ((bytes[bit / 8] & (1 << (bit % 8))) != 0) ones[bit]++;
        }
        // Each of the 192 bits is set in half the tokens: 50 % ± 1 % (the 1 % band is ~6 standard deviations at n = 100k).
        Assert.All(ones, count => Assert.InRange(count / (double)n, 0.49, 0.51));
        // Shannon entropy of the characters is close to the 6 bits a base64url character can carry.
        var histogram = seen.SelectMany(t => t).GroupBy(c => c).Select(g => g.Count() / (double)(n * ShareTokens.Length));
        var entropy = -histogram.Sum(p => p * Math.Log2(p));
        Assert.InRange(entropy, 5.9, 6.0);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("short")]
    [InlineData("abcdefghijklmnopqrstuvwxyz012345=")]
    [InlineData("abcdefghijklmnopqrstuvwxyz01234/")]
    [InlineData("../../../../../../etc/passwd.....")]
    public void IsWellFormed_RejectsAnythingElse(string? token) => Assert.False(ShareTokens.IsWellFormed(token));
}
