// Encodes one image like a generated one (a 256² crop of docs/model-samples-256.png, resized, plus ±3 noise) at 128²
// and 512², five rounds each, with ImageSharp 2's PNG encoder and with ours (both zlib level 3, adaptive filters);
// checks that ours decodes to the same pixels. Run from the repository root:
//   dotnet run -c Release --project tools/png-bench
using System.Diagnostics;
using DiffusionGallery.Inference.Imaging;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.Formats.Png;
using SixLabors.ImageSharp.PixelFormats;
using SixLabors.ImageSharp.Processing;

using var grid = Image.Load<Rgb24>(args.Length > 0 ? args[0] : "docs/model-samples-256.png");
using var source = grid.Clone(c => c.Crop(new Rectangle(grid.Width / 3, grid.Height / 3, 256, 256)));
var imageSharp = new PngEncoder
{
    ColorType = PngColorType.Rgb, BitDepth = PngBitDepth.Bit8, CompressionLevel = PngCompressionLevel.Level3,
    FilterMethod = PngFilterMethod.Adaptive, ChunkFilter = PngChunkFilter.ExcludeAll,
};
var random = new Random(1);
foreach (var size in new[] { 128, 512 })
{
    using var image = source.Clone(c => c.Resize(size, size, KnownResamplers.Bicubic));
    image.ProcessPixelRows(rows =>
    {
        for (var y = 0; y < rows.Height; y++)
            foreach (ref var p in rows.GetRowSpan(y))
            {
                var n = random.Next(-3, 4);
                p = new Rgb24((byte)Math.Clamp(p.R + n, 0, 255), (byte)Math.Clamp(p.G + n, 0, 255), (byte)Math.Clamp(p.B + n, 0, 255));
            }
    });
    var repeats = size == 512 ? 10 : 50;
    for (var round = 0; round < 5; round++)
    {
        var clock = Stopwatch.StartNew();
        var theirs = Array.Empty<byte>();
        for (var i = 0; i < repeats; i++)
        {
            using var stream = new MemoryStream();
            image.Save(stream, imageSharp);
            theirs = stream.ToArray();
        }
        var theirMs = clock.Elapsed.TotalMilliseconds / repeats;
        clock.Restart();
        var ours = Array.Empty<byte>();
        for (var i = 0; i < repeats; i++)
            ours = PngWriter.Encode(image);
        var ourMs = clock.Elapsed.TotalMilliseconds / repeats;
        using var back = Image.Load<Rgb24>(ours);
        var same = true;
        back.ProcessPixelRows(image, (a, b) =>
        {
            for (var y = 0; y < a.Height; y++)
                same &= a.GetRowSpan(y).SequenceEqual(b.GetRowSpan(y));
        });
        Console.WriteLine($"{size}²: ImageSharp {theirMs:F2} ms, {theirs.Length} bytes | PngWriter {ourMs:F2} ms, {ours.Length} bytes | same pixels: {same}");
    }
}
