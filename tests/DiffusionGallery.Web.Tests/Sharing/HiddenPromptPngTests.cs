using System.Diagnostics;
using DiffusionGallery.Web.Sharing;
using DiffusionGallery.Web.Tests.Support;

namespace DiffusionGallery.Web.Tests.Sharing;

/// <summary>The PNG visitors get for a hidden-prompt image carries no prompt, read back by exiftool (installed by .ci/run) and by our chunk reader.</summary>
public sealed class HiddenPromptPngTests
{
    [Fact]
    public async Task StrippedPng_HasNoPromptForExiftool_AndTheSamePixels()
    {
        var original = SharingSeed.Png("hush-hush violet owl\nSteps: 20, Sampler: Euler a, Seed: 3");
        var stripped = PublicPng.StripMetadata(original);
        var folder = Directory.CreateTempSubdirectory("dg-png-").FullName;
        try
        {
            var before = Path.Combine(folder, "original.png");
            var after = Path.Combine(folder, "public.png");
            await File.WriteAllBytesAsync(before, original, TestContext.Current.CancellationToken);
            await File.WriteAllBytesAsync(after, stripped, TestContext.Current.CancellationToken);

            Assert.Contains("hush-hush violet owl", await ExiftoolAsync(before)); // exiftool does read the chunk when it is there
            var report = await ExiftoolAsync(after);
            Assert.DoesNotContain("hush-hush", report);
            Assert.DoesNotContain("Parameters", report);
            Assert.Contains("\"ImageWidth\": 32", report);
            Assert.Empty(PngChunks.ReadText(stripped));

            using var a = SixLabors.ImageSharp.Image.Load<SixLabors.ImageSharp.PixelFormats.Rgb24>(original);
            using var b = SixLabors.ImageSharp.Image.Load<SixLabors.ImageSharp.PixelFormats.Rgb24>(stripped);
            Assert.Equal(a[5, 5], b[5, 5]);
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    [Fact]
    public void StripMetadata_RejectsNonPngAndTruncatedFiles()
    {
        Assert.Throws<InvalidDataException>(() => PublicPng.StripMetadata("GIF89a"u8));
        var png = SharingSeed.Png("x");
        Assert.Throws<InvalidDataException>(() => PublicPng.StripMetadata(png.AsSpan(0, 40)));
    }

    private static async Task<string> ExiftoolAsync(string path)
    {
        using var process = Process.Start(new ProcessStartInfo("exiftool", ["-j", "-a", path]) { RedirectStandardOutput = true, RedirectStandardError = true })!;
        var output = await process.StandardOutput.ReadToEndAsync(TestContext.Current.CancellationToken);
        await process.WaitForExitAsync(TestContext.Current.CancellationToken);
        Assert.Equal(0, process.ExitCode);
        return output;
    }
}
