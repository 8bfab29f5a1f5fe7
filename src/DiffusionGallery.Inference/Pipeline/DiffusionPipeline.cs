using System.Diagnostics;
using System.Security.Cryptography;
using DiffusionGallery.Inference.Abstractions;
using DiffusionGallery.Inference.Imaging;
using DiffusionGallery.Inference.Metadata;
using DiffusionGallery.Inference.Models;
using DiffusionGallery.Inference.Noise;
using DiffusionGallery.Inference.Onnx;
using DiffusionGallery.Inference.Previews;
using DiffusionGallery.Inference.Prompting;
using DiffusionGallery.Inference.Scheduling;
using DiffusionGallery.Inference.Tokenization;
using Microsoft.ML.OnnxRuntime;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;

namespace DiffusionGallery.Inference.Pipeline;

/// <summary>
/// Runs one validated request on a loaded model: tokenize → text encoder → (img2img: VAE encode + forward
/// noising) → UNet loop with batched CFG and the sampler → VAE decode → PNG with metadata. All tensors of the
/// step loop are allocated once before it starts. Cancellation is checked between steps and interrupts a
/// running ONNX call through <see cref="RunOptions.Terminate"/>; the sessions stay usable afterwards.
/// </summary>
internal sealed class DiffusionPipeline(LoadedModel model, InferenceOptions options, SafeImageDecoder imageDecoder, string? providerNote)
{
    private const int VaeFactor = 8;

    public GenerationRun Run(GenerationRequest request, IProgress<GenerationProgress>? progress, CancellationToken cancellationToken)
    {
        using var runOptions = new RunOptions();
        using var registration = cancellationToken.Register(() => runOptions.Terminate = true);
        try
        {
            return RunCore(request, progress, runOptions, cancellationToken);
        }
        catch (OnnxRuntimeException) when (cancellationToken.IsCancellationRequested)
        {
            throw new OperationCanceledException("The generation was cancelled during an ONNX Runtime call.", cancellationToken);
        }
    }

    private GenerationRun RunCore(GenerationRequest request, IProgress<GenerationProgress>? progress, RunOptions runOptions, CancellationToken ct)
    {
        var timings = new StageTimings();
        var jobStart = Stopwatch.GetTimestamp();
        var batch = request.BatchSize;
        var channels = model.LatentChannels;
        var latentH = request.Height / VaeFactor;
        var latentW = request.Width / VaeFactor;
        var itemLength = channels * latentH * latentW;
        var latentLength = batch * itemLength;
        var useTimestepCond = request.Sampler == SamplerKind.Lcm && model.HasTimestepCond;
        var useCfg = request.GuidanceScale > 1 && !useTimestepCond;
        var unetBatch = useCfg ? 2 * batch : batch;

        // 1. Prompts → weighted tokens.
        var t0 = Stopwatch.GetTimestamp();
        var promptEncoder = new WeightedPromptEncoder(model.Tokenizer);
        var positive = promptEncoder.Encode(request.Prompt);
        var negative = promptEncoder.Encode(request.NegativePrompt);
        timings.Add(StageTimings.Tokenize, t0);

        // 2. Text encoder, one call for [negative; positive].
        var prompts = useCfg ? new[] { negative, positive } : [positive];
        var (hidden, hiddenSize) = EncodeText(prompts, runOptions, timings);
        ct.ThrowIfCancellationRequested();

        // 3. Sampler and noise generators (one per batch item, seed + i).
        var sampler = SamplerFactory.Create(request.Sampler, model.Schedule, request.Steps,
            request.KarrasSigmas && SamplerNames.SupportsKarras(request.Sampler), request.Eta);
        var generators = new PhiloxNoiseGenerator[batch];
        for (var i = 0; i < batch; i++)
            generators[i] = new PhiloxNoiseGenerator(unchecked((ulong)request.Seed + (ulong)i));
        var latents = new float[latentLength];
        var noise = new float[latentLength];
        var denoised = new float[latentLength];
        var guided = new float[latentLength];
        t0 = Stopwatch.GetTimestamp();
        DrawNoise(generators, noise, itemLength, 1f);
        timings.Add(StageTimings.Noise, t0);

        var startStep = 0;
        string? initImageHash = request.InitImage is null ? null : Convert.ToHexStringLower(SHA256.HashData(request.InitImage));
        // Strength 1 creates anew: the same start as txt2img with this seed (noising the image to the last training
        // step would still leak a little of it, √ᾱ_T > 0), so the image is not even encoded.
        if (request.InitImage is not null && request.Strength < 1f)
        {
            var clean = EncodeImage(request, runOptions, timings, itemLength);
            var initSteps = Math.Min((int)(request.Steps * (double)request.Strength), request.Steps);
            startStep = request.Steps - initSteps;
            for (var b = 0; b < batch; b++)
            {
                var target = latents.AsSpan(b * itemLength, itemLength);
                if (initSteps == 0)
                    clean.CopyTo(target);
                else
                    sampler.AddNoise(startStep, clean, noise.AsSpan(b * itemLength, itemLength), target);
            }
        }
        else
        {
            var sigma = (float)sampler.InitNoiseSigma;
            for (var i = 0; i < latentLength; i++)
                latents[i] = noise[i] * sigma;
        }

        // 4. The step loop; every buffer it touches is allocated here, once.
        using var sample = new TensorBuffer(model.SampleType, [unetBatch, channels, latentH, latentW]);
        long[] timestepShape = model.TimestepRank == 0 ? [] : model.TimestepIsSingle ? [1] : [unetBatch];
        using var timestep = new TensorBuffer(model.TimestepType, timestepShape);
        using var hiddenStates = new TensorBuffer(model.HiddenStatesType, [unetBatch, ClipTokenizer.MaxLength, hiddenSize]);
        var block = ClipTokenizer.MaxLength * hiddenSize;
        for (var u = 0; u < unetBatch; u++)
        {
            var source = useCfg && u >= batch ? 1 : 0;
            hidden.AsSpan(source * block, block).CopyTo(hiddenStates.Data.AsSpan(u * block, block));
        }

        hiddenStates.Upload();
        using var timestepCond = useTimestepCond ? new TensorBuffer(model.TimestepCondType, [unetBatch, model.TimestepCondDim]) : null;
        if (timestepCond is not null)
        {
            for (var u = 0; u < unetBatch; u++)
                GuidanceMath.GuidanceEmbedding(request.GuidanceScale, timestepCond.Data.AsSpan(u * model.TimestepCondDim, model.TimestepCondDim));
            timestepCond.Upload();
        }

        var outputType = model.Unet.Outputs[model.UnetOutput].ElementDataType;
        using var unetOut = new TensorBuffer(outputType, [unetBatch, channels, latentH, latentW]);
        string[] inputNames = timestepCond is null
            ? ["sample", "timestep", "encoder_hidden_states"]
            : ["sample", "timestep", "encoder_hidden_states", "timestep_cond"];
        OrtValue[] inputValues = timestepCond is null
            ? [sample.Value, timestep.Value, hiddenStates.Value]
            : [sample.Value, timestep.Value, hiddenStates.Value, timestepCond.Value];
        string[] outputNames = [model.UnetOutput];
        OrtValue[] outputValues = [unetOut.Value];
        var previewer = new LatentPreviewer(model.Info.PreviewFactors, options.PreviewUpscale);

        var totalSteps = request.Steps - startStep;
        var loopStart = Stopwatch.GetTimestamp();
        for (var step = startStep; step < request.Steps; step++)
        {
            ct.ThrowIfCancellationRequested();
            t0 = Stopwatch.GetTimestamp();
            var scale = sampler.InputScale(step);
            var sampleData = sample.Data.AsSpan();
            for (var i = 0; i < latentLength; i++)
                sampleData[i] = latents[i] * scale;
            if (useCfg)
                sampleData[..latentLength].CopyTo(sampleData[latentLength..]);
            timestep.Data.AsSpan().Fill((float)sampler.Timesteps[step]);
            sample.Upload();
            timestep.Upload();
            timings.Add(StageTimings.TensorIo, t0);

            t0 = Stopwatch.GetTimestamp();
            model.Unet.Session.Run(runOptions, inputNames, inputValues, outputNames, outputValues);
            timings.Add(StageTimings.Unet, t0);

            t0 = Stopwatch.GetTimestamp();
            unetOut.Download();
            timings.Add(StageTimings.TensorIo, t0);

            t0 = Stopwatch.GetTimestamp();
            var output = unetOut.Data.AsSpan();
            if (useCfg)
            {
                GuidanceMath.Combine(output[..latentLength], output[latentLength..], request.GuidanceScale, guided);
                GuidanceMath.Rescale(guided, output[latentLength..], request.GuidanceRescale, batch);
            }
            else
            {
                output[..latentLength].CopyTo(guided);
            }

            ReadOnlySpan<float> stepNoise = default;
            if (sampler.NeedsNoise(step))
            {
                var tn = Stopwatch.GetTimestamp();
                DrawNoise(generators, noise, itemLength, request.Temperature);
                timings.Add(StageTimings.Noise, tn);
                stepNoise = noise;
            }

            sampler.Step(step, guided, latents, stepNoise, denoised);
            timings.Add(StageTimings.Scheduler, t0);

            if (progress is not null)
            {
                t0 = Stopwatch.GetTimestamp();
                var done = step - startStep + 1;
                IReadOnlyList<PreviewFrame>? previews = null;
                if (request.PreviewInterval > 0 && (done % request.PreviewInterval == 0 || done == totalSteps))
                    previews = previewer.Render(denoised, batch, channels, latentH, latentW);
                var loopElapsed = Stopwatch.GetElapsedTime(loopStart);
                var eta = TimeSpan.FromTicks(loopElapsed.Ticks / done * (totalSteps - done));
                progress.Report(new GenerationProgress(done, totalSteps, sampler.Timesteps[step], sampler.SigmaAt(step),
                    Stopwatch.GetElapsedTime(jobStart), eta, previews));
                timings.Add(StageTimings.Preview, t0);
            }
        }

        ct.ThrowIfCancellationRequested();

        // 5. VAE decode one item at a time, then PNG encoding, the items of a batch in parallel (at batch 8 on a GPU,
        //    encoding them one after the other was most of the time spent outside ONNX Runtime).
        var images = Decode(latents, batch, channels, latentH, latentW, runOptions, timings);
        t0 = Stopwatch.GetTimestamp();
        var encoded = new GenerationOutput[batch];
        Parallel.For(0, batch, new ParallelOptions { MaxDegreeOfParallelism = Math.Min(batch, Environment.ProcessorCount) }, b =>
        {
            var metadata = Describe(request, b, initImageHash);
            var parameters = InfotextBuilder.Build(metadata);
            var png = PngMetadata.Embed(PngWriter.Encode(images[b], options.PngCompressionLevel), parameters, metadata);
            encoded[b] = new GenerationOutput(unchecked(request.Seed + b), request.Width, request.Height, png, parameters) { Metadata = metadata };
        });
        timings.Add(StageTimings.PngEncode, t0);
        var outputs = new List<GenerationOutput>(encoded);

        timings.Add(StageTimings.Total, jobStart);
        var result = new GenerationResult(outputs, model.Name, model.ShortHash, model.ExecutionProvider, SessionFactory.RuntimeVersion, timings.ToDictionary())
        {
            Settings = request,
            PromptTokensTruncated = positive.Truncated,
            NegativePromptTokensTruncated = negative.Truncated,
            ExecutionProviderNote = providerNote,
            StepsRun = totalSteps,
        };
        return new GenerationRun(result, images, latents, [batch, channels, latentH, latentW]);
    }

    private (float[] Hidden, int HiddenSize) EncodeText(WeightedTokens[] prompts, RunOptions runOptions, StageTimings timings)
    {
        var t0 = Stopwatch.GetTimestamp();
        using var ids = new TensorBuffer(model.IdsType, [prompts.Length, ClipTokenizer.MaxLength]);
        for (var p = 0; p < prompts.Length; p++)
        {
            for (var i = 0; i < ClipTokenizer.MaxLength; i++)
                ids.Data[p * ClipTokenizer.MaxLength + i] = prompts[p].Ids[i];
        }

        ids.Upload();
        timings.Add(StageTimings.TensorIo, t0);
        t0 = Stopwatch.GetTimestamp();
        using var results = model.TextEncoder.Session.Run(runOptions, ["input_ids"], [ids.Value], [model.TextEncoderOutput]);
        timings.Add(StageTimings.TextEncoder, t0);
        t0 = Stopwatch.GetTimestamp();
        var hidden = TensorBuffer.ReadFloats(results[0]);
        var hiddenSize = hidden.Length / (prompts.Length * ClipTokenizer.MaxLength);
        var block = ClipTokenizer.MaxLength * hiddenSize;
        for (var p = 0; p < prompts.Length; p++)
            WeightedPromptEncoder.ApplyWeights(hidden.AsSpan(p * block, block), prompts[p].Weights, hiddenSize);
        timings.Add(StageTimings.TensorIo, t0);
        return (hidden, hiddenSize);
    }

    private float[] EncodeImage(GenerationRequest request, RunOptions runOptions, StageTimings timings, int itemLength)
    {
        var encoder = model.VaeEncoder ?? throw new UnsupportedByModelException($"Model '{model.Name}' has no VAE encoder.");
        var t0 = Stopwatch.GetTimestamp();
        var inputType = encoder.Inputs["sample"].ElementDataType;
        using var pixels = new TensorBuffer(inputType, [1, 3, request.Height, request.Width]);
        using (var image = imageDecoder.Decode(request.InitImage!))
            ImageTensors.ToTensor(image, request.Width, request.Height, pixels.Data);
        pixels.Upload();
        timings.Add(StageTimings.TensorIo, t0);
        t0 = Stopwatch.GetTimestamp();
        using var results = encoder.Session.Run(runOptions, ["sample"], [pixels.Value], [model.VaeEncoderOutput]);
        timings.Add(StageTimings.VaeEncode, t0);
        var latent = TensorBuffer.ReadFloats(results[0]);
        if (latent.Length != itemLength)
            throw new InvalidOperationException($"vae_encoder/model.onnx returned {latent.Length} values; expected {itemLength}.");
        var scaling = (float)model.Info.ScalingFactor;
        for (var i = 0; i < latent.Length; i++)
            latent[i] *= scaling;
        return latent;
    }

    private List<Image<Rgb24>> Decode(float[] latents, int batch, int channels, int latentH, int latentW, RunOptions runOptions, StageTimings timings)
    {
        var itemLength = channels * latentH * latentW;
        var width = latentW * VaeFactor;
        var height = latentH * VaeFactor;
        using var input = new TensorBuffer(model.LatentType, [1, channels, latentH, latentW]);
        using var output = new TensorBuffer(model.VaeDecoder.Outputs[model.VaeDecoderOutput].ElementDataType, [1, 3, height, width]);
        var images = new List<Image<Rgb24>>(batch);
        var inverseScale = 1.0 / model.Info.ScalingFactor;
        try
        {
            for (var b = 0; b < batch; b++)
            {
                var t0 = Stopwatch.GetTimestamp();
                for (var i = 0; i < itemLength; i++)
                    input.Data[i] = (float)(latents[b * itemLength + i] * inverseScale);
                input.Upload();
                timings.Add(StageTimings.TensorIo, t0);
                t0 = Stopwatch.GetTimestamp();
                model.VaeDecoder.Session.Run(runOptions, ["latent_sample"], [input.Value], [model.VaeDecoderOutput], [output.Value]);
                timings.Add(StageTimings.VaeDecode, t0);
                t0 = Stopwatch.GetTimestamp();
                output.Download();
                images.Add(ImageTensors.FromTensor(output.Data, width, height));
                timings.Add(StageTimings.PngEncode, t0);
            }
        }
        catch
        {
            foreach (var image in images)
                image.Dispose();
            throw;
        }

        return images;
    }

    private static void DrawNoise(PhiloxNoiseGenerator[] generators, float[] destination, int itemLength, float temperature)
    {
        for (var b = 0; b < generators.Length; b++)
        {
            var slice = destination.AsSpan(b * itemLength, itemLength);
            generators[b].Fill(slice);
            if (temperature != 1f)
            {
                for (var i = 0; i < slice.Length; i++)
                    slice[i] *= temperature;
            }
        }
    }

    private GenerationMetadata Describe(GenerationRequest request, int batchIndex, string? initImageHash) => new()
    {
        Prompt = request.Prompt,
        NegativePrompt = request.NegativePrompt,
        Model = model.Name,
        ModelHash = model.ShortHash,
        Sampler = request.Sampler.ToString(),
        KarrasSigmas = request.KarrasSigmas && SamplerNames.SupportsKarras(request.Sampler),
        Steps = request.Steps,
        GuidanceScale = request.GuidanceScale,
        GuidanceRescale = request.GuidanceRescale,
        Width = request.Width,
        Height = request.Height,
        Seed = unchecked((ulong)request.Seed + (ulong)batchIndex),
        BaseSeed = unchecked((ulong)request.Seed),
        BatchIndex = batchIndex,
        BatchSize = request.BatchSize,
        Eta = request.Eta,
        Temperature = request.Temperature,
        Strength = request.InitImage is null ? null : request.Strength,
        InitImageHash = initImageHash,
        ExecutionProvider = model.ExecutionProvider,
        RuntimeVersion = SessionFactory.RuntimeVersion,
    };
}
