// Host-side costs of the engine, side by side. Run from the repository root:
//   dotnet run -c Release --project tools/host-bench [png|fp16]     (default: both)
// png: one image like a generated one (a 256² crop of docs/model-samples-256.png, resized, plus ±3 noise) at 128² and
//   512², five rounds each, with ImageSharp 2's PNG encoder and with ours (both zlib level 3, adaptive filters); checks
//   that ours decodes to the same pixels.
// fp16: one SD-1.5 CFG step's UNet rows (2 × 4 × 64 × 64 values) to fp16 and back, with ONNX Runtime's Float16 casts
//   (the engine's until 2026-12-07) and with TensorPrimitives (what RowTensor does now), eight rounds.
using System.Diagnostics;
using System.Numerics.Tensors;
using System.Runtime.InteropServices;
using DiffusionGallery.Inference.Imaging;
using Microsoft.ML.OnnxRuntime;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.Formats.Png;
using SixLabors.ImageSharp.PixelFormats;
using SixLabors.ImageSharp.Processing;

var what = args.Length > 0 ? args[0] : "all";
if (what is "all" or "fp16")
    Fp16();
if (what is "all" or "png")
    Png();

static void Fp16()
{
    const int n = 2 * 4 * 64 * 64;
    var data = Enumerable.Range(0, n).Select(i => MathF.Sin(i) * 3).ToArray();
    var half = new Float16[n];
    var back = new float[n];
    for (var round = 0; round < 8; round++)
    {
        var clock = Stopwatch.StartNew();
        for (var r = 0; r < 200; r++)
        {
            for (var i = 0; i < n; i++) half[i] = (Float16)data[i];
            for (var i = 0; i < n; i++) back[i] = (float)half[i];
        }
        var casts = clock.Elapsed.TotalMilliseconds / 200;
        clock.Restart();
        for (var r = 0; r < 200; r++)
        {
            TensorPrimitives.ConvertToHalf(data, MemoryMarshal.Cast<Float16, Half>(half.AsSpan()));
            TensorPrimitives.ConvertToSingle(MemoryMarshal.Cast<Float16, Half>(half.AsSpan()), back);
        }
        var vectorised = clock.Elapsed.TotalMilliseconds / 200;
        Console.WriteLine($"fp16 {n} values there and back: Float16 casts {casts:F3} ms, TensorPrimitives {vectorised:F3} ms per step (25 steps: {casts * 25:F1} vs {vectorised * 25:F1} ms)");
    }
}

static void Png()
{
using var grid = Image.Load<Rgb24>("docs/model-samples-256.png");
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
}
