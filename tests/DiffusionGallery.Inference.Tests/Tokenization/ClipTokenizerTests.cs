using System.Text.Json;
using DiffusionGallery.Inference.Tests.Support;
using DiffusionGallery.Inference.Tokenization;

namespace DiffusionGallery.Inference.Tests.Tokenization;

public sealed class ClipTokenizerTests
{
    private static readonly ClipTokenizer Tokenizer = ClipTokenizer.Load(TestPaths.Fixture("tokenizer"));

    public static TheoryData<string, int[], int> FixtureCases()
    {
        var data = new TheoryData<string, int[], int>();
        using var doc = JsonDocument.Parse(File.ReadAllText(TestPaths.Fixture("tokenizer_cases.json")));
        foreach (var c in doc.RootElement.GetProperty("cases").EnumerateArray())
            data.Add(c.GetProperty("prompt").GetString()!, c.GetProperty("ids").EnumerateArray().Select(e => e.GetInt32()).ToArray(), c.GetProperty("truncated").GetInt32());
        return data;
    }

    [Theory]
    [MemberData(nameof(FixtureCases))]
    public void Encode_MatchesPythonReferenceTokenizer(string prompt, int[] expectedIds, int expectedTruncated)
    {
        var result = Tokenizer.Encode(prompt);

        Assert.Equal(expectedIds, result.Ids);
        Assert.Equal(expectedTruncated, result.Truncated);
    }

    [Fact]
    public void Encode_PadsWithEndOfTextToSeventySeven()
    {
        var result = Tokenizer.Encode("red");

        Assert.Equal(ClipTokenizer.MaxLength, result.Ids.Length);
        Assert.Equal(Tokenizer.BosId, result.Ids[0]);
        Assert.Equal(Tokenizer.EosId, result.Ids[2]);
        Assert.All(result.Ids[3..], id => Assert.Equal(Tokenizer.EosId, id));
    }

    [Fact]
    public void Encode_ReportsHowManyTokensWereDropped()
    {
        var result = Tokenizer.Encode(string.Join(' ', Enumerable.Repeat("red", 80)));

        Assert.Equal(5, result.Truncated);
        Assert.Equal(Tokenizer.EosId, result.Ids[^1]);
    }

    [Fact]
    public void Golden_TokenIdsEqualReference()
    {
        var path = TestPaths.RequireGolden("tokens.json");
        var tokenizer = ClipTokenizer.Load(Path.Combine(TestPaths.RequireTinyModel(), "tokenizer"));
        using var doc = JsonDocument.Parse(File.ReadAllText(path));
        var count = 0;
        foreach (var c in doc.RootElement.GetProperty("cases").EnumerateArray())
        {
            var prompt = c.GetProperty("prompt").GetString()!;
            var result = tokenizer.Encode(prompt);
            Assert.Equal(c.GetProperty("ids").EnumerateArray().Select(e => e.GetInt32()).ToArray(), result.Ids);
            Assert.Equal(c.GetProperty("truncated").GetInt32(), result.Truncated);
            count++;
        }

        Assert.True(count > 0, "tokens.json has no cases");
    }
}
