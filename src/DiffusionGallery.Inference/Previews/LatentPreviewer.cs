using DiffusionGallery.Inference.Abstractions;

namespace DiffusionGallery.Inference.Previews;

/// <summary>Linear latent→RGB factors: rgb = Σ_c latent[c]·Factors[c] + Bias, on UNet-space (scaled) latents.</summary>
public sealed record PreviewFactors(float[][] Factors, float[] Bias)
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
        Span<byte> pixel = stackalloc byte[3];
        for (var b = 0; b < batch; b++)
        {
            var item = latents.Slice(b * channels * plane, channels * plane);
            var rgb = new byte[outW * outH * 3];
            for (var y = 0; y < height; y++)
            {
                for (var x = 0; x < width; x++)
                {
                    var p = y * width + x;
                    for (var k = 0; k < 3; k++)
                    {
                        var v = bias[k];
                        for (var c = 0; c < Math.Min(channels, f.Length); c++)
                            v += item[c * plane + p] * f[c][k];
                        pixel[k] = (byte)(Math.Clamp((v + 1f) / 2f, 0f, 1f) * 255f);
                    }

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
