using System.Diagnostics;
using DiffusionGallery.Inference.Imaging;
using DiffusionGallery.Inference.Models;
using DiffusionGallery.Inference.Onnx;
using Microsoft.ML.OnnxRuntime;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;

namespace DiffusionGallery.Inference.Pipeline;

/// <summary>
/// Members leaving the loop: VAE decoding (shared calls of up to <see cref="DecodeImagesPerCall"/> images, fixed-shape
/// decoder sessions where configured), on the loop's thread or (<see cref="InferenceOptions.DecodeOffLoop"/>) on the side thread.
/// </summary>
internal sealed partial class DiffusionPipeline
{
    // decodes posted to the side thread and not yet waited for (the loop's thread only)
    private readonly List<Task> _decoding = [];

    private DeviceThread? Decoder => options.DecodeOffLoop ? decodeThread ?? side : null;

    // The VAE decoder's host tensors by images a call, kept for the run (a joinable run decodes at many steps: without
    // them every call allocated its output anew on the large-object heap); disposed when the ONNX phase ends.
    private readonly Dictionary<int, (TensorBuffer Input, TensorBuffer Output)> _decodeBuffers = [];

    /// <summary>
    /// A member leaves the loop: decoded when it ran its last step (on the decoder thread, if there is one), then put on
    /// the list of those handed on together.
    /// </summary>
    private void Finish(BatchMember m, List<BatchMember> leaving, RunShape shape, RunOptions runOptions, RunJoining? joining)
    {
        if (Decoder is not null && NeedsDecoding(m))
            DecodeLater([m], shape, runOptions, joining);
        else
            FinishTogether([m], leaving, shape, runOptions);
    }

    /// <summary>Whether a leaving member has images to decode (it ran its last step, without an error, and is not decoded yet).</summary>
    private static bool NeedsDecoding(BatchMember m) => m.Error is null && m.LoopDone && m.Images is null;

    /// <summary>
    /// Decodes members that left the loop together on the decoder thread, and hands them on from there, while the loop
    /// goes on (the loop no longer touches them). Whatever fails there fails those members only.
    /// </summary>
    private void DecodeLater(List<BatchMember> ending, RunShape shape, RunOptions runOptions, RunJoining? joining)
    {
        _decoding.RemoveAll(t => t.IsCompleted); // (a joinable run may go on for hours)
        _decoding.Add(Decoder!.RunAsync(() =>
        {
            var leaving = new List<BatchMember>();
            try
            {
                FinishTogether(ending, leaving, shape, runOptions);
            }
            catch (Exception ex)
            {
                var error = StoppedOr(ex, runOptions);
                foreach (var m in ending.Where(m => m.Error is null && m.Images is null))
                    Fail(m, error);
                leaving = ending;
            }

            Hand(leaving, joining);
        }));
    }

    /// <summary>
    /// Members that left the loop at the same step: those that ran their last step are decoded together (one VAE call
    /// for up to <see cref="DecodeImagesPerCall"/> images, instead of one per image), then all are put on the list of
    /// those handed on together. A failed VAE call fails the members of that call only.
    /// </summary>
    private void FinishTogether(List<BatchMember> ending, List<BatchMember> leaving, RunShape shape, RunOptions runOptions)
    {
        var decode = new List<BatchMember>();
        foreach (var m in ending)
        {
            if (m.Error is not null || !m.LoopDone || m.Images is not null)
                continue;
            if (m.Token.IsCancellationRequested)
                Fail(m, new OperationCanceledException("The generation was cancelled.", m.Token));
            else
                decode.Add(m);
        }

        // every image of these members, in order, in calls of at most perCall images (a member's images may span calls)
        var perCall = DecodeImagesPerCall(shape.LatentH, shape.LatentW, options.DecodeImagesPerCall);
        var images = decode.SelectMany(m => Enumerable.Range(0, m.Batch).Select(b => (Member: m, Image: b))).ToList();
        var decoded = decode.ToDictionary(m => m, m => new Image<Rgb24>?[m.Batch]);
        for (var first = 0; first < images.Count; first += perCall)
        {
            var call = images.GetRange(first, Math.Min(perCall, images.Count - first));
            var members = call.Select(c => c.Member).Distinct().ToList();
            if (members.Any(m => m.Error is not null))
                continue; // (its earlier images' call failed)
            try
            {
                var frames = DecodeImages(call.Select(c => (ReadOnlyMemory<float>)c.Member.Latents.AsMemory(c.Image * shape.ItemLength, shape.ItemLength)).ToList(), shape, runOptions,
                    members.Select(m => (m.Timings, call.Count(c => c.Member == m))).ToList());
                for (var i = 0; i < call.Count; i++)
                    decoded[call[i].Member][call[i].Image] = frames[i];
            }
            catch (Exception ex) when (!runOptions.Terminate)
            {
                foreach (var m in members)
                    Fail(m, ex);
            }
        }

        foreach (var (m, frames) in decoded)
        {
            if (m.Error is null)
                m.Images = [.. frames.Select(f => f!)];
            else
                foreach (var frame in frames)
                    frame?.Dispose();
        }

        leaving.AddRange(ending);
    }

    /// <summary>
    /// Images one VAE decode call takes, a power of two: automatically 64 at 128² (16 × 16 latents), 16 at 256², 4 at
    /// 512², 1 from 1024²; <paramref name="configured"/> (<see cref="InferenceOptions.DecodeImagesPerCall"/>) lowers it.
    /// </summary>
    internal static int DecodeImagesPerCall(int latentH, int latentW, int configured = 0)
    {
        var automatic = Math.Clamp(16_384 / Math.Max(1, latentH * latentW), 1, 64);
        var most = configured > 0 ? Math.Min(configured, automatic) : automatic;
        return (int)System.Numerics.BitOperations.RoundUpToPowerOf2((uint)most + 1) / 2; // the largest power of two ≤ most
    }

    /// <summary>
    /// Decodes latent images ([C, h, w] each, UNet-scaled) in one VAE call ([N, C, h, w]); each member's timings get its
    /// share of the call. Returns the images in order.
    /// </summary>
    private Image<Rgb24>[] DecodeImages(List<ReadOnlyMemory<float>> latents, RunShape shape, RunOptions runOptions, List<(StageTimings Timings, int Images)> shares)
    {
        var (channels, latentH, latentW, itemLength) = (shape.Channels, shape.LatentH, shape.LatentW, shape.ItemLength);
        var width = latentW * LoadedModel.VaeFactor;
        var height = latentH * LoadedModel.VaeFactor;
        var count = latents.Count;
        // padded to a power of two (rows past the images hold whatever the buffer held; their images are dropped): a
        // session sees a handful of batch shapes, each prepared once, instead of one for every number of images that
        // happen to finish together
        var padded = (int)System.Numerics.BitOperations.RoundUpToPowerOf2((uint)count);
        var t0 = Stopwatch.GetTimestamp();
        if (!_decodeBuffers.TryGetValue(padded, out var buffers))
        {
            var made = new TensorBuffer(model.LatentType, [padded, channels, latentH, latentW]);
            try
            {
                buffers = (made, new TensorBuffer(model.VaeDecoder.Outputs[model.VaeDecoderOutput].ElementDataType, [padded, 3, height, width]));
            }
            catch
            {
                made.Dispose();
                throw;
            }

            _decodeBuffers[padded] = buffers; // (a run has one latent size: the key is the image count)
        }

        var (input, output) = buffers;
        var inverseScale = 1.0 / model.Info.ScalingFactor;
        for (var n = 0; n < count; n++)
        {
            var source = latents[n].Span;
            var target = input.Data.AsSpan(n * itemLength, itemLength);
            for (var i = 0; i < itemLength; i++)
                target[i] = (float)(source[i] * inverseScale);
        }

        input.Upload();
        var t1 = Stopwatch.GetTimestamp();
        RunVaeDecoder(new StaticVaeShape(padded, latentH, latentW), input, output, runOptions);
        var t2 = Stopwatch.GetTimestamp();
        output.Download();
        var pixels = 3 * width * height;
        var images = new Image<Rgb24>[count];
        try
        {
            var data = output.Data;
            if (count == 1)
                images[0] = ImageTensors.FromTensor(data.AsSpan(0, pixels), width, height); // (the default: one image a call)
            else
                Parallel.For(0, count, n => images[n] = ImageTensors.FromTensor(data.AsSpan(n * pixels, pixels), width, height));
        }
        catch
        {
            foreach (var image in images)
                image?.Dispose();
            throw;
        }

        var t3 = Stopwatch.GetTimestamp();
        foreach (var (timings, share) in shares)
        {
            var part = (double)share / count;
            timings.AddTicks(StageTimings.TensorIo, (long)((t1 - t0) * part));
            timings.AddTicks(StageTimings.VaeDecode, (long)((t2 - t1) * part));
            timings.AddTicks(StageTimings.PngEncode, (long)((t3 - t2) * part)); // (tensor → image, as before)
        }

        return images;
    }

    /// <summary>
    /// One VAE decoder call: through the model's fixed-shape decoder for this shape where
    /// <see cref="InferenceOptions.StaticVaeDecoder"/> made one (a refused call turns that path off, with a log line,
    /// and the ordinary session runs instead), else through the ordinary session.
    /// </summary>
    private void RunVaeDecoder(StaticVaeShape shape, TensorBuffer input, TensorBuffer output, RunOptions runOptions)
    {
        if (model.StaticVaeDecoders is { } cache && cache.TryGet(shape, out var decoder))
        {
            try
            {
                decoder.Input.Write(input.TypedBytes);
                decoder.Run(runOptions);
                decoder.Output.Read(output.TypedBytes);
                return;
            }
            catch (OnnxRuntimeException ex) when (!runOptions.Terminate)
            {
                cache.Disable($"a call for {shape} failed: {ex.Message.Split('\n')[0]}");
            }
        }

        using (CudaGraphCapture.Work())
            model.VaeDecoder.Session.Run(runOptions, ["latent_sample"], [input.Value], [model.VaeDecoderOutput], [output.Value]);
    }
}
