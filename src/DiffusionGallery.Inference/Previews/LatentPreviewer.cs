using DiffusionGallery.Inference.Abstractions;

namespace DiffusionGallery.Inference.Previews;

/// <summary>
/// Latent→RGB preview on UNet-space (scaled) latents: linear factors, rgb = Σ_c latent[c]·Factors[c] + Bias,
/// or, when the model ships one, a small per-pixel MLP (for latent spaces that are not linear in colour).
/// </summary>
public sealed record PreviewFactors(float[][] Factors, float[] Bias, PreviewMlp? Mlp = null)
{
    /// <summary>A1111's SD1.x "cheap approximation" factors (no bias).</summary>
    public static PreviewFactors StableDiffusion1 { get; } = new(
    [
        [0.298f, 0.207f, 0.208f],
        [0.187f, 0.286f, 0.173f],
        [-0.158f, 0.189f, 0.264f],
        [-0.184f, -0.271f, -0.473f],
    ], [0f, 0f, 0f]);
}

/// <summary>rgb = W3·silu(W2·silu(W1·z + b1) + b2) + b3 per latent pixel; W as [out][in].</summary>
public sealed record PreviewMlp(float[][] W1, float[] B1, float[][] W2, float[] B2, float[][] W3, float[] B3)
{
    public bool IsWellFormed(int channels) =>
        W1.Length == B1.Length && W1.All(r => r.Length == channels)
        && W2.Length == B2.Length && W2.All(r => r.Length == W1.Length)
        && W3.Length == 3 && B3.Length == 3 && W3.All(r => r.Length == W2.Length);

    /// <summary>Evaluates the MLP on one latent pixel; <paramref name="scratch"/> holds 2 × hidden floats.</summary>
    public void Apply(ReadOnlySpan<float> z, Span<float> rgb, Span<float> scratch)
    {
        var h1 = scratch[..W1.Length];
        var h2 = scratch.Slice(W1.Length, W2.Length);
        Layer(W1, B1, z, h1, silu: true);
        Layer(W2, B2, h1, h2, silu: true);
        Layer(W3, B3, h2, rgb, silu: false);
    }

    private static void Layer(float[][] w, float[] b, ReadOnlySpan<float> input, Span<float> output, bool silu)
    {
        for (var o = 0; o < w.Length; o++)
        {
            var v = b[o];
            var row = w[o];
            for (var i = 0; i < row.Length; i++)
                v += row[i] * input[i];
            output[o] = silu ? v / (1f + MathF.Exp(-v)) : v;
        }
    }
}

/// <summary>Cheap previews of a latent batch: one RGB24 frame per item, nearest-neighbour upscaled.</summary>
public sealed class LatentPreviewer(PreviewFactors factors, int upscale = 1)
{
    public PreviewFactors Factors { get; } = factors;

    public IReadOnlyList<PreviewFrame> Render(ReadOnlySpan<float> latents, int batch, int channels, int height, int width)
    {
        var frames = new PreviewFrame[batch];
        var plane = height * width;
        var scale = Math.Max(1, upscale);
        var outW = width * scale;
        var outH = height * scale;
        var f = Factors.Factors;
        var bias = Factors.Bias;
        var mlp = Factors.Mlp is { } m && m.IsWellFormed(channels) ? m : null;
        Span<byte> pixel = stackalloc byte[3];
        Span<float> z = stackalloc float[channels];
        Span<float> rgbf = stackalloc float[3];
        Span<float> scratch = stackalloc float[mlp is null ? 0 : mlp.W1.Length + mlp.W2.Length];
        for (var b = 0; b < batch; b++)
        {
            var item = latents.Slice(b * channels * plane, channels * plane);
            var rgb = new byte[outW * outH * 3];
            for (var y = 0; y < height; y++)
            {
                for (var x = 0; x < width; x++)
                {
                    var p = y * width + x;
                    if (mlp is not null)
                    {
                        for (var c = 0; c < channels; c++)
                            z[c] = item[c * plane + p];
                        mlp.Apply(z, rgbf, scratch);
                    }
                    else
                    {
                        for (var k = 0; k < 3; k++)
                        {
                            var v = bias[k];
                            for (var c = 0; c < Math.Min(channels, f.Length); c++)
                                v += item[c * plane + p] * f[c][k];
                            rgbf[k] = v;
                        }
                    }

                    for (var k = 0; k < 3; k++)
                        pixel[k] = (byte)(Math.Clamp((rgbf[k] + 1f) / 2f, 0f, 1f) * 255f);

                    for (var dy = 0; dy < scale; dy++)
                    {
                        var row = (y * scale + dy) * outW;
                        for (var dx = 0; dx < scale; dx++)
                            pixel.CopyTo(rgb.AsSpan((row + x * scale + dx) * 3, 3));
                    }
                }
            }

            frames[b] = new PreviewFrame(outW, outH, rgb);
        }

        return frames;
    }
}
