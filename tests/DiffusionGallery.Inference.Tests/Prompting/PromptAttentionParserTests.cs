using DiffusionGallery.Inference.Prompting;
using DiffusionGallery.Inference.Tokenization;
using DiffusionGallery.Inference.Tests.Support;

namespace DiffusionGallery.Inference.Tests.Prompting;

public sealed class PromptAttentionParserTests
{
    private static (string, float)[] Parse(string prompt) =>
        PromptAttentionParser.Parse(prompt).Select(f => (f.Text, (float)Math.Round(f.Weight, 4))).ToArray();

    [Fact]
    public void ExplicitWeight_AppliesToTheBracketedText()
    {
        Assert.Equal([("a ", 1f), ("red circle", 1.3f), (" here", 1f)], Parse("a (red circle:1.3) here"));
    }

    [Fact]
    public void RoundAndSquareBrackets_MultiplyAndNest()
    {
        Assert.Equal([("a", 1.1f)], Parse("(a)"));
        Assert.Equal([("a", 1.21f)], Parse("((a))"));
        Assert.Equal([("a", 0.9091f)], Parse("[a]"));
        Assert.Equal([("x ", 1.5f), ("y", 1.65f)], Parse("(x (y):1.5)"));
    }

    [Fact]
    public void EscapedBrackets_AreLiteral()
    {
        Assert.Equal([("a (b) [c]", 1f)], Parse(@"a \(b\) \[c\]"));
    }

    [Fact]
    public void UnbalancedOpenBracket_AppliesToTheEnd()
    {
        Assert.Equal([("a ", 1f), ("b c", 1.1f)], Parse("a (b c"));
    }

    [Fact]
    public void StrayColonAndCloser_StayText()
    {
        Assert.Equal([("ratio: 2) ok", 1f)], Parse("ratio: 2) ok"));
    }

    [Fact]
    public void Empty_IsOneEmptyFragment()
    {
        Assert.Equal([("", 1f)], Parse(""));
    }

    [Fact]
    public void Escape_RoundTripsThroughTheParser()
    {
        const string text = @"f(x) = [y] \ z";
        Assert.Equal([(text, 1f)], Parse(PromptAttentionParser.Escape(text)));
    }

    [Fact]
    public void Encoder_GivesWeightsToTheTokensOfWeightedFragments()
    {
        var tokenizer = ClipTokenizer.Load(TestPaths.Fixture("tokenizer"));
        var encoder = new WeightedPromptEncoder(tokenizer);

        var weighted = encoder.Encode("a (red:1.5) circle");

        Assert.Equal(tokenizer.Encode("a red circle").Ids, weighted.Ids);
        Assert.Equal([1f, 1f, 1.5f, 1f, 1f, 1f], weighted.Weights[..6]);
        Assert.True(weighted.HasEmphasis);
        Assert.False(encoder.Encode("a red circle").HasEmphasis);
    }

    [Fact]
    public void ApplyWeights_ScalesTokensAndRestoresTheMean()
    {
        const int hidden = 2;
        float[] embeddings = [1, 1, 2, 2, 3, 3];
        float[] weights = [1, 2, 1];
        var meanBefore = embeddings.Average();

        WeightedPromptEncoder.ApplyWeights(embeddings, weights, hidden);

        Assert.Equal(meanBefore, embeddings.Average(), 5);
        Assert.Equal(4 * embeddings[0], embeddings[2], 5); // token 1 was twice token 0 and got weight 2
    }
}
