using DiffusionGallery.Inference.Imaging;
using DiffusionGallery.Inference.Models;
using DiffusionGallery.Inference.Noise;
using DiffusionGallery.Inference.Onnx;
using DiffusionGallery.Inference.Scheduling;
using Microsoft.ML.OnnxRuntime;

namespace DiffusionGallery.Inference.Pipeline;

/// <summary>Input of <see cref="DiffusionImageGenerator.NoiseImageAsync"/>.</summary>
public sealed record ForwardNoiseRequest
{
    /// <summary>Encoded PNG/JPEG/WebP.</summary>
    public required byte[] Image { get; init; }
    /// <summary>Training timestep 0 … T−1 (999 for SD) to noise to.</summary>
    public required int Timestep { get; init; }
    public long Seed { get; init; }
    public string? Model { get; init; }
    public int Width { get; init; } = 128;
    public int Height { get; init; } = 128;
}

/// <summary>The noised image (PNG), its UNet-space latent and the noise level reached.</summary>
public sealed record ForwardNoiseResult(byte[] Png, float[] Latent, int[] LatentShape, int Timestep, double AlphaCumprod, double Sigma);

internal sealed class ForwardNoiser(LoadedModel model, SafeImageDecoder decoder)
{
    public ForwardNoiseResult Run(ForwardNoiseRequest request, CancellationToken ct)
    {
        if (model.VaeEncoder is null)
            throw new UnsupportedByModelException($"Model '{model.Name}' has no vae_encoder/model.onnx.");
        if (request.Timestep < 0 || request.Timestep >= model.Schedule.TrainTimesteps)
            throw new SettingOutOfRangeException(nameof(request.Timestep), $"Timestep must be between 0 and {model.Schedule.TrainTimesteps - 1}.");
        if (request.Width % 8 != 0 || request.Height % 8 != 0 || request.Width > model.Info.MaxWidth || request.Height > model.Info.MaxHeight || request.Width < 64 || request.Height < 64)
            throw new SettingOutOfRangeException(nameof(request.Width), "Size must be a multiple of 8 within the model's limits.");
        using var runOptions = new RunOptions();
        using var registration = ct.Register(() => runOptions.Terminate = true);
        try
        {
            using var pixels = new TensorBuffer(model.VaeEncoder.Inputs["sample"].ElementDataType, [1, 3, request.Height, request.Width]);
            using (var image = decoder.Decode(request.Image))
                ImageTensors.ToTensor(image, request.Width, request.Height, pixels.Data);
            pixels.Upload();
            float[] clean;
            using (CudaGraphCapture.Work())
            using (var encoded = model.VaeEncoder.Session.Run(runOptions, ["sample"], [pixels.Value], [model.VaeEncoderOutput]))
                clean = TensorBuffer.ReadFloats(encoded[0]);
            var scaling = (float)model.Info.ScalingFactor;
            for (var i = 0; i < clean.Length; i++)
                clean[i] *= scaling;
            var noise = new float[clean.Length];
            PhiloxNoiseGenerator.Fill(unchecked((ulong)request.Seed), 0, noise);
            var noised = new float[clean.Length];
            ForwardDiffusion.AddNoise(model.Schedule, request.Timestep, clean, noise, noised);
            ct.ThrowIfCancellationRequested();

            int h = request.Height / LoadedModel.VaeFactor, w = request.Width / LoadedModel.VaeFactor, c = model.LatentChannels;
            using var latent = new TensorBuffer(model.LatentType, [1, c, h, w]);
            for (var i = 0; i < noised.Length; i++)
                latent.Data[i] = noised[i] / scaling;
            latent.Upload();
            using var decoded = new TensorBuffer(model.VaeDecoder.Outputs[model.VaeDecoderOutput].ElementDataType, [1, 3, request.Height, request.Width]);
            using (CudaGraphCapture.Work())
                model.VaeDecoder.Session.Run(runOptions, ["latent_sample"], [latent.Value], [model.VaeDecoderOutput], [decoded.Value]);
            decoded.Download();
            using var result = ImageTensors.FromTensor(decoded.Data, request.Width, request.Height);
            var alpha = model.Schedule.AlphasCumprod[request.Timestep];
            return new ForwardNoiseResult(PngWriter.Encode(result), noised, [1, c, h, w], request.Timestep, alpha, Math.Sqrt((1 - alpha) / alpha));
        }
        catch (OnnxRuntimeException) when (ct.IsCancellationRequested)
        {
            throw new OperationCanceledException(ct);
        }
    }
}
