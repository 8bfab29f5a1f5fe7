using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;
using SixLabors.ImageSharp.Processing;

namespace DiffusionGallery.Inference.Imaging;

/// <summary>Conversions between ImageSharp images and NCHW float tensors in [−1, 1].</summary>
public static class ImageTensors
{
    /// <summary>Resizes (if needed) and writes [3, H, W] values in [−1, 1] into <paramref name="destination"/>.</summary>
    public static void ToTensor(Image<Rgb24> image, int width, int height, Span<float> destination)
    {
        if (image.Width != width || image.Height != height)
            image.Mutate(x => x.Resize(new ResizeOptions { Size = new Size(width, height), Mode = ResizeMode.Crop, Sampler = KnownResamplers.Lanczos3 }));
        var plane = width * height;
        var buffer = new Rgb24[plane];
        image.CopyPixelDataTo(buffer);
        for (var i = 0; i < plane; i++)
        {
            destination[i] = buffer[i].R / 127.5f - 1f;
            destination[plane + i] = buffer[i].G / 127.5f - 1f;
            destination[2 * plane + i] = buffer[i].B / 127.5f - 1f;
        }
    }

    /// <summary>One [3, H, W] image in [−1, 1] → RGB24 (diffusers: clamp(x/2+0.5)·255, rounded).</summary>
    public static Image<Rgb24> FromTensor(ReadOnlySpan<float> chw, int width, int height)
    {
        var plane = width * height;
        var pixels = new Rgb24[plane];
        for (var i = 0; i < plane; i++)
            pixels[i] = new Rgb24(ToByte(chw[i]), ToByte(chw[plane + i]), ToByte(chw[2 * plane + i]));
        return Image.LoadPixelData<Rgb24>(pixels, width, height);
    }

    internal static byte ToByte(float value)
    {
        var unit = Math.Clamp((value + 1f) / 2f, 0f, 1f);
        return (byte)MathF.Round(unit * 255f, MidpointRounding.ToEven);
    }
}
