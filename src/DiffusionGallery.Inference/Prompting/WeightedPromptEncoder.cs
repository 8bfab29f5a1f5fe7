using DiffusionGallery.Inference.Tokenization;

namespace DiffusionGallery.Inference.Prompting;

/// <summary>77 token ids with a weight per position (BOS/EOS/padding weigh 1) and the count of dropped tokens.</summary>
public sealed record WeightedTokens(int[] Ids, float[] Weights, int Truncated)
{
    public bool HasEmphasis => Weights.Any(w => w != 1f);
}

/// <summary>Turns an emphasis-annotated prompt into weighted CLIP tokens.</summary>
public sealed class WeightedPromptEncoder(ClipTokenizer tokenizer)
{
    public WeightedTokens Encode(string prompt)
    {
        var ids = new List<int>();
        var weights = new List<float>();
        foreach (var fragment in PromptAttentionParser.Parse(prompt))
        {
            var fragmentIds = tokenizer.EncodeContent(fragment.Text);
            ids.AddRange(fragmentIds);
            weights.AddRange(Enumerable.Repeat(fragment.Weight, fragmentIds.Count));
        }

        var packed = tokenizer.Pack(ids);
        var positionWeights = new float[ClipTokenizer.MaxLength];
        Array.Fill(positionWeights, 1f);
        var kept = Math.Min(weights.Count, ClipTokenizer.ContentLength);
        for (var i = 0; i < kept; i++)
            positionWeights[i + 1] = weights[i];
        return new WeightedTokens(packed.Ids, positionWeights, packed.Truncated);
    }

    /// <summary>
    /// Applies per-token weights to one [77, D] block of text embeddings as A1111 does: multiply each token's
    /// vector by its weight, then rescale the block so its mean is unchanged.
    /// </summary>
    public static void ApplyWeights(Span<float> embeddings, ReadOnlySpan<float> weights, int hiddenSize)
    {
        var allOne = true;
        foreach (var w in weights)
            allOne &= w == 1f;
        if (allOne)
            return;
        double before = 0, after = 0;
        for (var t = 0; t < weights.Length; t++)
        {
            var row = embeddings.Slice(t * hiddenSize, hiddenSize);
            for (var d = 0; d < hiddenSize; d++)
            {
                before += row[d];
                row[d] *= weights[t];
                after += row[d];
            }
        }

        if (after == 0)
            return;
        var correction = (float)(before / after);
        for (var i = 0; i < weights.Length * hiddenSize; i++)
            embeddings[i] *= correction;
    }
}
