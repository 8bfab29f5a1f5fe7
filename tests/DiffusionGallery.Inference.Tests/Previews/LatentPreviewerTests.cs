using DiffusionGallery.Inference.Previews;

namespace DiffusionGallery.Inference.Tests.Previews;

public sealed class LatentPreviewerTests
{
    [Fact]
    public void Render_AppliesFactorsAndBiasThenMapsMinusOneToOne()
    {
        var factors = new PreviewFactors([[1f, 0f, 0f], [0f, 1f, 0f], [0f, 0f, 1f], [0.5f, 0.5f, 0.5f]], [0f, 0f, -0.5f]);
        // One item, 4 channels, 1x2 latent: pixel 0 = (−1, 0, 1, 0), pixel 1 = (0, 0, 0, 2).
        float[] latent = [-1, 0, 0, 0, 1, 0, 0, 2];

        var frame = new LatentPreviewer(factors).Render(latent, batch: 1, channels: 4, height: 1, width: 2)[0];

        Assert.Equal((2, 1), (frame.Width, frame.Height));
        Assert.Equal([0, 127, 191], frame.Rgb24[..3]);      // rgb = (−1, 0, 0.5) → (0, 127.5, 191.25)
        Assert.Equal([255, 255, 191], frame.Rgb24[3..6]);   // rgb = (1, 1, 0.5)
    }

    [Fact]
    public void Render_UpscalesByNearestNeighbourAndSplitsTheBatch()
    {
        float[] latent = new float[2 * 4 * 2 * 2];
        latent[16] = 1f; // item 1, channel 0, pixel (0,0)

        var frames = new LatentPreviewer(PreviewFactors.StableDiffusion1, upscale: 3).Render(latent, 2, 4, 2, 2);

        Assert.Equal(2, frames.Count);
        Assert.Equal((6, 6, 6 * 6 * 3), (frames[1].Width, frames[1].Height, frames[1].Rgb24.Length));
        Assert.Equal(frames[1].Rgb24[..3], frames[1].Rgb24[(2 * 6 * 3 + 2 * 3)..(2 * 6 * 3 + 3 * 3)]); // (2,2) copies (0,0)
        Assert.NotEqual(frames[0].Rgb24[..3], frames[1].Rgb24[..3]);
    }
}
