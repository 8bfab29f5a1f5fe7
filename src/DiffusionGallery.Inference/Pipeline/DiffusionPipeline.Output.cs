using System.Diagnostics;
using DiffusionGallery.Inference.Abstractions;
using DiffusionGallery.Inference.Imaging;
using DiffusionGallery.Inference.Metadata;
using DiffusionGallery.Inference.Onnx;
using DiffusionGallery.Inference.Scheduling;

namespace DiffusionGallery.Inference.Pipeline;

/// <summary>The phase after the GPU gate: PNG encoding with A1111 and JSON metadata.</summary>
internal sealed partial class DiffusionPipeline
{
    /// <summary>
    /// PNG encoding with metadata, the images of the member in parallel; needs no ONNX session, so the engine runs it
    /// after releasing its GPU gate. Disposes the decoded images unless <paramref name="keepImages"/>.
    /// </summary>
    public void Encode(BatchMember m, bool keepImages)
    {
        if (m.Error is not null || m.Images is null)
            return;
        try
        {
            m.Token.ThrowIfCancellationRequested();
            var request = m.Request;
            var images = m.Images;
            var t0 = Stopwatch.GetTimestamp();
            var encoded = new GenerationOutput[m.Batch];
            Parallel.For(0, m.Batch, new ParallelOptions { MaxDegreeOfParallelism = Math.Min(m.Batch, Environment.ProcessorCount) }, b =>
            {
                var metadata = Describe(request, b, m.InitImageHash);
                var parameters = InfotextBuilder.Build(metadata);
                var png = PngMetadata.Embed(PngWriter.Encode(images[b], options.PngCompressionLevel), parameters, metadata);
                encoded[b] = new GenerationOutput(unchecked(request.Seed + b), request.Width, request.Height, png, parameters) { Metadata = metadata };
            });
            m.Timings.Add(StageTimings.PngEncode, t0);
            m.Timings.Add(StageTimings.Total, m.JobStart);
            m.Result = new GenerationResult(encoded, model.Name, model.ShortHash, model.ExecutionProvider, SessionFactory.RuntimeVersion, m.Timings.ToDictionary())
            {
                Settings = request,
                PromptTokensTruncated = m.Positive.Truncated,
                NegativePromptTokensTruncated = m.Negative.Truncated,
                ExecutionProviderNote = providerNote,
                StepsRun = Math.Max(0, m.TotalSteps),
                SharedBatchSize = Math.Max(m.SharedBatchSize, m.Batch),
            };
            if (!keepImages)
                m.DisposeImages();
        }
        catch (Exception ex)
        {
            Fail(m, ex);
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
