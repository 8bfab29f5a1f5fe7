using SixLabors.ImageSharp;
using SixLabors.ImageSharp.Formats.Jpeg;
using SixLabors.ImageSharp.Formats.Png;
using SixLabors.ImageSharp.Formats.Webp;
using SixLabors.ImageSharp.Memory;
using SixLabors.ImageSharp.PixelFormats;

namespace DiffusionGallery.Inference.Imaging;

/// <summary>Limits for decoding untrusted images.</summary>
public sealed record ImageDecodeLimits
{
    public long MaxEncodedBytes { get; init; } = 32 * 1024 * 1024;
    public int MaxDimension { get; init; } = 8192;
    public long MaxPixels { get; init; } = 16_000_000;
    public int AllocationLimitMegabytes { get; init; } = 256;
}

/// <summary>
/// Decodes untrusted images (init images, uploads) through a restricted ImageSharp configuration:
/// PNG, JPEG and WebP decoders only, an allocation cap, header identification (format, size, pixel
/// count) before any pixel is decoded. Every failure becomes an <see cref="InvalidImageException"/>.
/// </summary>
public sealed class SafeImageDecoder
{
    private readonly Configuration _configuration;

    public SafeImageDecoder(ImageDecodeLimits? limits = null)
    {
        Limits = limits ?? new ImageDecodeLimits();
        _configuration = new Configuration(new PngConfigurationModule(), new JpegConfigurationModule(), new WebpConfigurationModule())
        {
            MemoryAllocator = MemoryAllocator.Create(new MemoryAllocatorOptions { AllocationLimitMegabytes = Limits.AllocationLimitMegabytes }),
        };
    }

    public ImageDecodeLimits Limits { get; }

    /// <summary>Reads only the header (format, size, metadata) and checks it against the limits.</summary>
    public IImageInfo Identify(byte[] encoded)
    {
        if (encoded.Length == 0)
            throw new InvalidImageException("The image is empty.");
        if (encoded.Length > Limits.MaxEncodedBytes)
            throw new InvalidImageException($"The image is {encoded.Length} bytes; the limit is {Limits.MaxEncodedBytes}.");
        return Guard(() =>
        {
            using var probe = new MemoryStream(encoded, writable: false);
            var info = Image.Identify(_configuration, probe)
                ?? throw new InvalidImageException("The image format is not supported (PNG, JPEG or WebP only).");
            if (info.Width <= 0 || info.Height <= 0)
                throw new InvalidImageException("The image has no pixels.");
            if (info.Width > Limits.MaxDimension || info.Height > Limits.MaxDimension
                || (long)info.Width * info.Height > Limits.MaxPixels)
                throw new InvalidImageException($"The image is {info.Width}x{info.Height}; at most {Limits.MaxDimension} per side and {Limits.MaxPixels} pixels are accepted.");
            return info;
        });
    }

    /// <summary>Decodes to RGB24 after <see cref="Identify"/> accepted the header.</summary>
    public Image<Rgb24> Decode(byte[] encoded)
    {
        Identify(encoded);
        return Guard(() =>
        {
            using var stream = new MemoryStream(encoded, writable: false);
            return Image.Load<Rgb24>(_configuration, stream);
        });
    }

    private static T Guard<T>(Func<T> action)
    {
        try
        {
            return action();
        }
        catch (InvalidImageException)
        {
            throw;
        }
        catch (UnknownImageFormatException)
        {
            throw new InvalidImageException("The image format is not supported (PNG, JPEG or WebP only).");
        }
        catch (Exception ex) when (ex is ImageFormatException or InvalidMemoryOperationException or NotSupportedException
                                       or InvalidDataException or IndexOutOfRangeException or ArgumentException or EndOfStreamException)
        {
            throw new InvalidImageException($"The image could not be decoded: {ex.Message}");
        }
    }
}

/// <summary>An init image or upload that is corrupt, too large or of an unsupported format.</summary>
public sealed class InvalidImageException(string message) : Abstractions.InvalidGenerationRequestException(message);
