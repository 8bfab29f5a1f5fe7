using System.Diagnostics;
using DiffusionGallery.Inference.Imaging;
using DiffusionGallery.Inference.Metadata;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;

namespace DiffusionGallery.Inference.Tests.Metadata;

public sealed class PngMetadataTests
{
    private const string ExifTool = "/usr/bin/exiftool";

    internal static GenerationMetadata Sample(string prompt = "a red circle (on:1.2) a blue background", string negative = "") => new()
    {
        Prompt = prompt,
        NegativePrompt = negative,
        Model = "tiny-shapes",
        ModelHash = "0123456789",
        Sampler = "DpmPlusPlus2M",
        KarrasSigmas = true,
        Steps = 25,
        GuidanceScale = 7.5f,
        Width = 128,
        Height = 96,
        Seed = 18446744073709551615UL,
        BaseSeed = 18446744073709551614UL,
        BatchIndex = 1,
        BatchSize = 2,
        ExecutionProvider = "CPU",
        RuntimeVersion = "1.31.0",
    };

    private static byte[] SmallPng()
    {
        using var image = new Image<Rgb24>(8, 8, new Rgb24(10, 20, 30));
        return PngWriter.Encode(image);
    }

    [Fact]
    public void Infotext_HasA1111KeyOrder()
    {
        var text = InfotextBuilder.Build(Sample(negative: "blurry"));

        Assert.Equal("a red circle (on:1.2) a blue background\nNegative prompt: blurry\n" +
                     "Steps: 25, Sampler: DPM++ 2M, CFG scale: 7.5, Seed: 18446744073709551615, Size: 128x96, Model hash: 0123456789, " +
                     "Model: tiny-shapes, Schedule type: Karras, Version: DiffusionGallery", text);
    }

    [Fact]
    public void EmbedThenRead_RoundTripsBothChunks()
    {
        var metadata = Sample();
        var png = PngMetadata.Embed(SmallPng(), InfotextBuilder.Build(metadata), metadata);

        var read = PngMetadata.Read(png);

        Assert.Equal(metadata, read.Generation);
        Assert.Equal(metadata.Prompt, read.Parameters!.Prompt);
        Assert.Equal("18446744073709551615", read.Parameters["Seed"]);
        using var decoded = Image.Load<Rgb24>(png);
        Assert.Equal(new Rgb24(10, 20, 30), decoded[3, 3]);
    }

    [Fact]
    public void NonLatinText_IsWrittenAsUtf8ITxt()
    {
        var metadata = Sample(prompt: "猫 on a 🎨 background");
        var png = PngMetadata.Embed(SmallPng(), InfotextBuilder.Build(metadata), metadata);

        Assert.Contains("iTXt"u8.ToArray(), Chunks(png));
        Assert.Equal("猫 on a 🎨 background", PngMetadata.Read(png).Parameters!.Prompt);
    }

    [Fact]
    public void Read_RejectsTruncatedFiles()
    {
        var png = PngMetadata.Embed(SmallPng(), "p\nSteps: 1, Seed: 2, Size: 8x8", Sample());

        Assert.Throws<InvalidDataException>(() => PngMetadata.Read(png.AsSpan(0, 60)));
        Assert.Throws<InvalidDataException>(() => PngMetadata.Read("not a png at all, just text"u8));
    }

    [Fact]
    public void ExifTool_ReadsParametersAndJsonChunks()
    {
        Assert.SkipUnless(File.Exists(ExifTool), "exiftool is not installed at /usr/bin/exiftool");
        var metadata = Sample(negative: "ugly, \"bad\"");
        var text = InfotextBuilder.Build(metadata);
        var path = Path.Combine(Path.GetTempPath(), $"dg-meta-{Guid.NewGuid():N}.png");
        File.WriteAllBytes(path, PngMetadata.Embed(SmallPng(), text, metadata));
        try
        {
            var parameters = Run("-b", "-Parameters", path);
            var json = Run("-b", "-Diffusion_gallery", path);
            var warnings = Run("-validate", "-warning", "-a", path);

            Assert.Equal(text, parameters);
            Assert.Equal(metadata, GenerationMetadata.FromJson(json));
            Assert.Contains("OK", warnings);
        }
        finally
        {
            File.Delete(path);
        }
    }

    private static string Run(params string[] args)
    {
        var start = new ProcessStartInfo(ExifTool) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in args)
            start.ArgumentList.Add(a);
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        return output;
    }

    private static List<byte[]> Chunks(byte[] png)
    {
        var types = new List<byte[]>();
        var pos = 8;
        while (pos + 8 <= png.Length)
        {
            var length = (png[pos] << 24) | (png[pos + 1] << 16) | (png[pos + 2] << 8) | png[pos + 3];
            types.Add(png[(pos + 4)..(pos + 8)]);
            pos += 12 + length;
        }

        return types;
    }
}
