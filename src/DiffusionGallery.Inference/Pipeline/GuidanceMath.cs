using System.Numerics;

namespace DiffusionGallery.Inference.Pipeline;

/// <summary>Classifier-free guidance and its rescale (Lin et al. 2023, diffusers <c>rescale_noise_cfg</c>).</summary>
public static class GuidanceMath
{
    /// <summary>guided = uncond + scale·(cond − uncond), over SIMD vectors (the same float operations in the same order).</summary>
    public static void Combine(ReadOnlySpan<float> uncond, ReadOnlySpan<float> cond, float scale, Span<float> guided)
    {
        var i = 0;
        if (Vector.IsHardwareAccelerated)
        {
            var width = Vector<float>.Count;
            var factor = new Vector<float>(scale);
            for (; i <= guided.Length - width; i += width)
            {
                var u = new Vector<float>(uncond[i..]);
                (u + factor * (new Vector<float>(cond[i..]) - u)).CopyTo(guided[i..]);
            }
        }

        for (; i < guided.Length; i++)
            guided[i] = uncond[i] + scale * (cond[i] - uncond[i]);
    }

    /// <summary>
    /// Per batch item: rescaled = guided·std(cond)/std(guided), result = φ·rescaled + (1−φ)·guided.
    /// </summary>
    public static void Rescale(Span<float> guided, ReadOnlySpan<float> cond, float phi, int batch)
    {
        if (phi == 0)
            return;
        var itemLength = guided.Length / batch;
        for (var b = 0; b < batch; b++)
        {
            var g = guided.Slice(b * itemLength, itemLength);
            var c = cond.Slice(b * itemLength, itemLength);
            var ratio = StandardDeviation(c) / StandardDeviation(g);
            if (!double.IsFinite(ratio))
                continue;
            for (var i = 0; i < g.Length; i++)
                g[i] = (float)(phi * g[i] * ratio + (1 - phi) * g[i]);
        }
    }

    internal static double StandardDeviation(ReadOnlySpan<float> values)
    {
        double mean = 0;
        foreach (var v in values)
            mean += v;
        mean /= values.Length;
        double sum = 0;
        foreach (var v in values)
            sum += (v - mean) * (v - mean);
        return Math.Sqrt(sum / Math.Max(1, values.Length - 1));
    }

    /// <summary>LCM guidance embedding: sin/cos features of w = (g − 1)·1000 (diffusers <c>get_guidance_scale_embedding</c>).</summary>
    public static void GuidanceEmbedding(float guidanceScale, Span<float> destination)
    {
        var w = (guidanceScale - 1.0) * 1000.0;
        var half = destination.Length / 2;
        var factor = Math.Log(10000.0) / Math.Max(1, half - 1);
        destination.Clear();
        for (var i = 0; i < half; i++)
        {
            var angle = w * Math.Exp(-factor * i);
            destination[i] = (float)Math.Sin(angle);
            destination[half + i] = (float)Math.Cos(angle);
        }
    }
}
