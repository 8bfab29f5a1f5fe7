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
/// Runs validated requests of one <see cref="BatchKey"/> together on a loaded model, in two phases.
/// <see cref="RunOnnx"/> (under the engine's GPU gate): tokenize → one text-encoder call for every distinct prompt →
/// per member noise and (img2img) VAE encode → the step loop, where each step packs the rows of the ACTIVE members
/// into one UNet call ([uncond; cond] per member with CFG &gt; 1, one row per image otherwise) and runs each image's own
/// sampler on its slice → VAE decode. <see cref="Encode"/> (after the gate is released): PNG with metadata.
/// Members share sampler, schedule and step count; each runs its own step index. With a per-row timestep input
/// (our exports) rows at different steps share a UNet call, so img2img members start at once at their start step and,
/// with <see cref="RunJoining"/>, new members join a running loop at any step boundary (continuous batching); with a
/// scalar timestep only the members at the lowest step run together. Members leave at a step boundary when their
/// token is cancelled, and are decoded as soon as they finish. Tensors of the loop are allocated once for the largest
/// row count and viewed per step (<see cref="RowTensor"/>).
/// Cancellation of the call interrupts a running ONNX call through <see cref="RunOptions.Terminate"/>, as does
/// cancellation of every member; the sessions stay usable afterwards.
/// </summary>
/// <param name="side">
/// The engine's side thread (with <see cref="InferenceOptions.DecodeOffLoop"/> or <see cref="InferenceOptions.AdmitOffLoop"/>):
/// where the members that finish at a step are decoded (and handed on), and where members that join a running run are
/// admitted (tokens, text encoder, samplers, noise), while the loop goes on with the next step; null = both on the loop's thread.
/// </param>
/// <param name="decodeThread">
/// With <see cref="InferenceOptions.DecodeThread"/>: the thread that decodes instead of <paramref name="side"/>, which then
/// only admits.
/// </param>
internal sealed partial class DiffusionPipeline(LoadedModel model, InferenceOptions options, SafeImageDecoder imageDecoder, string? providerNote,
    DeviceThread? side = null, DeviceThread? decodeThread = null)
{
    /// <summary>How often a joinable run's step loop reports where its time went (<see cref="RunJoining.Report"/>).</summary>
    private static readonly long LoopReportInterval = 2 * Stopwatch.Frequency;

    // the running joinable loop's counters (the loop's thread only)
    private LoopCounters? _loopCounters;

    /// <summary>
    /// The ONNX phase. Member failures (bad init image, cancelled token, failing progress sink) are recorded on the
    /// member; a failure of a shared call is recorded on every member still running. Throws only
    /// <see cref="OperationCanceledException"/> for <paramref name="ct"/>. With <paramref name="joining"/>, members
    /// may join the running loop at step boundaries and each member is handed to <see cref="RunJoining.Finished"/>
    /// once (decoded, or failed) — also when the call fails or is cancelled.
    /// </summary>
    public void RunOnnx(IReadOnlyList<BatchMember> members, CancellationToken ct, RunJoining? joining = null)
    {
        var all = new List<BatchMember>(members);
        using var runOptions = new RunOptions();
        using var registration = ct.Register(() => runOptions.Terminate = true);
        // Without joining, a run whose members are all cancelled stops its ONNX call at once. (With joining a later
        // member may still come, and a terminated RunOptions would fail it: cancelled members leave at the next step.)
        var memberRegistrations = joining is not null ? [] : members.Select(m => m.Token.Register(() =>
        {
            if (members.All(x => x.Error is not null || x.Token.IsCancellationRequested))
                runOptions.Terminate = true;
        })).ToList();
        try
        {
            try
            {
                RunCore(all, joining, runOptions, ct);
            }
            finally
            {
                WaitForSideWork(); // every member is decoded (or failed) before the run's outcome is settled
                _loopCounters?.Flush(Stopwatch.GetTimestamp());
                _loopCounters = null;
            }
        }
        catch (OnnxRuntimeException) when (ct.IsCancellationRequested)
        {
            throw new OperationCanceledException("The generation was cancelled during an ONNX Runtime call.", ct);
        }
        catch (Exception ex) when (!ct.IsCancellationRequested)
        {
            foreach (var member in all.Where(m => m.Error is null && m.Images is null))
                Fail(member, ex);
        }
        finally
        {
            foreach (var (input, output) in _decodeBuffers.Values)
            {
                input.Dispose();
                output.Dispose();
            }

            _decodeBuffers.Clear();
            foreach (var r in memberRegistrations)
                r.Dispose();
            if (joining is not null)
            {
                var left = all.Where(m => !m.Handed).ToList();
                foreach (var member in left.Where(m => m.Error is null && m.Images is null))
                    member.Fail(new OperationCanceledException("The run was stopped.", ct));
                Hand(left, joining);
            }
        }
    }

    /// <summary>Hands the members that left (joinable runs) to <see cref="RunJoining.Finished"/>, each once, and clears the list.</summary>
    private static void Hand(List<BatchMember> leaving, RunJoining? joining)
    {
        var handed = leaving.Where(m => !m.Handed).ToList();
        leaving.Clear();
        if (joining is null || handed.Count == 0)
            return; // (without joining, the caller collects the members when the run is over)
        foreach (var member in handed)
            member.Handed = true;
        joining.Finished(handed);
    }

    private static void Fail(BatchMember member, Exception error) =>
        member.Fail(member.Token.IsCancellationRequested && error is not OperationCanceledException
            ? new OperationCanceledException("The generation was cancelled.", error, member.Token)
            : error);

    /// <summary>Runs <paramref name="action"/> for each member still alive; its exception fails that member only.</summary>
    private static void ForEachLive(IReadOnlyList<BatchMember> members, CancellationToken ct, Action<BatchMember> action)
    {
        foreach (var member in members)
        {
            if (member.Error is not null)
                continue;
            try
            {
                member.Token.ThrowIfCancellationRequested();
                action(member);
            }
            catch (Exception ex) when (!ct.IsCancellationRequested)
            {
                Fail(member, ex);
            }
        }
    }

    /// <summary>The latent geometry shared by every member of a run (same batch key).</summary>
    private sealed record RunShape(int Channels, int LatentH, int LatentW, int Steps, bool UseTimestepCond)
    {
        public int ItemLength => Channels * LatentH * LatentW;
    }

    private void RunCore(List<BatchMember> members, RunJoining? joining, RunOptions runOptions, CancellationToken ct)
    {
        var first = members[0].Request;
        var shape = new RunShape(model.LatentChannels, first.Height / LoadedModel.VaeFactor, first.Width / LoadedModel.VaeFactor, first.Steps,
            first.Sampler == SamplerKind.Lcm && model.HasTimestepCond);
        var admitted = Admit(members, shape, runOptions, ct);
        if (admitted is null)
            return;

        // The step loop; each member is decoded as it finishes (PNG encoding follows in Encode, outside the GPU gate).
        RunSteps(members, joining, admitted.Value, shape, runOptions, ct);
    }

    /// <summary>
    /// Makes members ready for the loop: tokens, one text-encoder call for their distinct prompts, samplers, noise and
    /// initial latents. Returns the hidden size, or null when no member is left.
    /// </summary>
    private int? Admit(IReadOnlyList<BatchMember> members, RunShape shape, RunOptions runOptions, CancellationToken ct)
    {
        // 1. Prompts → weighted tokens, per member.
        var promptEncoder = new WeightedPromptEncoder(model.Tokenizer);
        ForEachLive(members, ct, m =>
        {
            var t0 = Stopwatch.GetTimestamp();
            m.Positive = promptEncoder.Encode(m.Request.Prompt);
            m.Negative = promptEncoder.Encode(m.Request.NegativePrompt);
            m.UseCfg = m.Request.GuidanceScale > 1 && !shape.UseTimestepCond;
            m.LatentShape = [m.Batch, shape.Channels, shape.LatentH, shape.LatentW];
            m.Timings.Add(StageTimings.Tokenize, t0);
        });

        // 2. Text encoder: one call for every distinct prompt of these members.
        var prompts = new List<WeightedTokens>();
        var rowOf = new Dictionary<string, int>(StringComparer.Ordinal);
        int RowOf(string text, WeightedTokens tokens)
        {
            if (!rowOf.TryGetValue(text, out var row))
            {
                row = prompts.Count;
                prompts.Add(tokens);
                rowOf[text] = row;
            }

            return row;
        }

        var live = members.Where(m => m.Error is null).ToList();
        foreach (var m in live)
        {
            m.PositiveRow = RowOf(m.Request.Prompt, m.Positive);
            if (m.UseCfg)
                m.NegativeRow = RowOf(m.Request.NegativePrompt, m.Negative);
        }

        if (prompts.Count == 0)
            return null;
        var (hidden, hiddenSize) = EncodeText(prompts, runOptions, live.Select(m => m.Timings).ToList());
        ct.ThrowIfCancellationRequested();
        foreach (var m in live)
            m.Hidden = hidden;

        // 3. Per member: samplers and noise generators (one per image, seed + i), buffers, initial latents.
        ForEachLive(members, ct, m => Prepare(m, shape.ItemLength, runOptions));
        foreach (var m in members.Where(m => m.Error is null))
        {
            m.Step = m.StartStep;
            if (m.TotalSteps <= 0)
                m.LoopDone = true;
        }

        return hiddenSize;
    }

    private void Prepare(BatchMember m, int itemLength, RunOptions runOptions)
    {
        var request = m.Request;
        var batch = m.Batch;
        var karras = request.KarrasSigmas && SamplerNames.SupportsKarras(request.Sampler);
        m.Samplers = new Sampler[batch];
        m.Generators = new PhiloxNoiseGenerator[batch];
        for (var i = 0; i < batch; i++)
        {
            m.Samplers[i] = SamplerFactory.Create(request.Sampler, model.Schedule, request.Steps, karras, request.Eta);
            m.Generators[i] = new PhiloxNoiseGenerator(unchecked((ulong)request.Seed + (ulong)i));
        }

        var length = batch * itemLength;
        m.Latents = new float[length];
        m.Noise = new float[length];
        m.Denoised = new float[length];
        m.Guided = new float[length];
        var t0 = Stopwatch.GetTimestamp();
        DrawNoise(m.Generators, m.Noise, itemLength, 1f);
        m.Timings.Add(StageTimings.Noise, t0);

        m.StartStep = 0;
        m.InitImageHash = request.InitImage is null ? null : Convert.ToHexStringLower(SHA256.HashData(request.InitImage));
        // Strength 1 creates anew: the same start as txt2img with this seed (noising the image to the last training
        // step would still leak a little of it, √ᾱ_T > 0), so the image is not even encoded.
        if (request.InitImage is not null && request.Strength < 1f)
        {
            var clean = EncodeImage(request, runOptions, m.Timings, itemLength);
            var initSteps = Math.Min((int)(request.Steps * (double)request.Strength), request.Steps);
            m.StartStep = request.Steps - initSteps;
            for (var b = 0; b < batch; b++)
            {
                var target = m.Latents.AsSpan(b * itemLength, itemLength);
                if (initSteps == 0)
                    clean.CopyTo(target);
                else
                    m.Samplers[b].AddNoise(m.StartStep, clean, m.Noise.AsSpan(b * itemLength, itemLength), target);
            }
        }
        else
        {
            var sigma = (float)m.Samplers[0].InitNoiseSigma;
            for (var i = 0; i < length; i++)
                m.Latents[i] = m.Noise[i] * sigma;
        }
    }

    /// <summary>
    /// The shared step loop. Each member runs its own step index; with a per-row timestep input every live member takes
    /// part in every UNet call (rows at different steps side by side), otherwise only the members at the lowest step do
    /// (so every row of a call has the same timestep, and an img2img member waits for the others to reach its start
    /// step). With <paramref name="joining"/> (per-row timesteps only), new members are admitted at step boundaries
    /// while there is room. A member leaves when cancelled, failed or done; a done member is decoded at once.
    /// </summary>
    private void RunSteps(List<BatchMember> members, RunJoining? joining, int hiddenSize, RunShape shape, RunOptions runOptions, CancellationToken ct)
    {
        _loopCounters = joining?.Report is { } report ? new LoopCounters(report, LoopReportInterval, Stopwatch.GetTimestamp(),
            side is null && decodeThread is null ? null : () => (side?.BusyTicks ?? 0) + (decodeThread?.BusyTicks ?? 0)) : null;
        var (channels, latentH, latentW, steps) = (shape.Channels, shape.LatentH, shape.LatentW, shape.Steps);
        var itemLength = shape.ItemLength;
        var perRowTimestep = model.TimestepPerRow;
        if (!perRowTimestep)
            joining = null; // rows at different steps need a timestep per row
        var capacity = Math.Max(members.Sum(m => m.RowsPerStep), joining is null ? 0 : 2 * joining.MaxImages);
        var block = ClipTokenizer.MaxLength * hiddenSize;
        using var sample = new RowTensor(model.SampleType, capacity, [channels, latentH, latentW]);
        using var timestep = perRowTimestep
            ? new RowTensor(model.TimestepType, capacity, [])
            : new RowTensor(model.TimestepType, 1, model.TimestepRank == 0 ? [] : [1], scalar: true);
        using var hiddenStates = new RowTensor(model.HiddenStatesType, capacity, [ClipTokenizer.MaxLength, hiddenSize]);
        using var timestepCond = shape.UseTimestepCond ? new RowTensor(model.TimestepCondType, capacity, [model.TimestepCondDim]) : null;
        using var unetOut = new RowTensor(model.Unet.Outputs[model.UnetOutput].ElementDataType, capacity, [channels, latentH, latentW]);
        using var unet = CreateUnetCall(new UnetTensors(sample, timestep, hiddenStates, timestepCond, unetOut), latentH, latentW);
        using var onDevice = model.LatentStep is { } stepGraph && unet is StaticUnetCall && perRowTimestep && !shape.UseTimestepCond
            ? new DeviceLatents(stepGraph, checked((int)System.Numerics.BitOperations.RoundUpToPowerOf2((uint)capacity)), channels, latentH, latentW,
                model.StaticUnets!.TensorDevice)
            : null;
        var previewer = new LatentPreviewer(model.Info.PreviewFactors, options.PreviewUpscale);

        var active = new List<BatchMember>();
        var activeTimings = new List<StageTimings>();
        var next = new List<BatchMember>();
        var offsets = new List<int>(); // first UNet row of active[i]
        var layout = new RowLayout<BatchMember>(m => m.RowsPerStep, unet.RowsComputed, capacity);
        var written = new List<RowRange>();
        var rows = 0; // the rows the UNet call covers (members' rows and the gaps left between them)
        var leaving = new List<BatchMember>();
        foreach (var m in members.Where(m => m.Error is not null || m.LoopDone))
            Finish(m, leaving, shape, runOptions, joining);
        Hand(leaving, joining);
        var ending = new List<BatchMember>();
        var decodeLater = new List<BatchMember>();
        while (true)
        {
            ct.ThrowIfCancellationRequested();
            var stepStart = Stopwatch.GetTimestamp();
            if (joining is not null)
                Join(members, joining, leaving, shape, runOptions, ct);
            var joinTicks = Stopwatch.GetTimestamp() - stepStart; // (added to this step's members below: the last step's may be handed on)

            var t0 = Stopwatch.GetTimestamp();
            next.Clear();
            var lowest = int.MaxValue;
            foreach (var m in members)
            {
                if (m.Admitting || m.Error is not null || m.LoopDone)
                    continue;
                if (m.Token.IsCancellationRequested)
                {
                    m.Fail(new OperationCanceledException("The generation was cancelled.", m.Token));
                    Finish(m, leaving, shape, runOptions, joining);
                    continue;
                }

                lowest = Math.Min(lowest, m.Step);
                next.Add(m);
            }

            Hand(leaving, joining);
            if (!perRowTimestep)
                next.RemoveAll(m => m.Step != lowest);
            if (next.Count == 0)
            {
                if (_admitting.Count == 0)
                    break;
                var waitStart = Stopwatch.GetTimestamp();
                Task.WaitAny([.. _admitting.Select(a => a.Admitted)], ct); // nothing to step until a joiner is admitted
                _loopCounters?.Waited(waitStart, Stopwatch.GetTimestamp());
                continue;
            }

            foreach (var m in next)
            {
                if (m.Step == m.StartStep)
                    m.LoopStart = Stopwatch.GetTimestamp();
            }

            if (!next.SequenceEqual(active))
            {
                // The set of members changed (one joined or left): members that stay keep their rows; only the rows of
                // those placed now get their text embeddings (and LCM's guidance embedding) written and uploaded.
                (active, next) = (next, active);
                written.Clear();
                foreach (var m in layout.Update(active))
                {
                    var first = layout.OffsetOf(m);
                    for (var r = 0; r < m.RowsPerStep; r++)
                    {
                        var source = m.UseCfg && r < m.Batch ? m.NegativeRow : m.PositiveRow;
                        m.Hidden.AsSpan(source * block, block).CopyTo(hiddenStates.Row(first + r));
                        if (timestepCond is not null)
                            GuidanceMath.GuidanceEmbedding(m.Request.GuidanceScale, timestepCond.Row(first + r));
                    }

                    // (members placed side by side — all of them when the rows were packed — make one range: one device copy)
                    if (written.Count > 0 && written[^1].Start + written[^1].Count == first)
                        written[^1] = written[^1] with { Count = written[^1].Count + m.RowsPerStep };
                    else
                        written.Add(new RowRange(first, m.RowsPerStep));
                    hiddenStates.Upload(first, m.RowsPerStep);
                    timestepCond?.Upload(first, m.RowsPerStep);
                }

                rows = layout.Span;
                offsets.Clear();
                foreach (var m in active)
                    offsets.Add(layout.OffsetOf(m));
                activeTimings.Clear();
                activeTimings.AddRange(active.Select(m => m.Timings));
                unet.SetLayout(rows, written);
            }

            if (joining is not null)
                StageTimings.AddSharedTicks(StageTimings.Join, joinTicks, activeTimings);
            var images = 0;
            foreach (var m in active)
                images += m.Batch;
            foreach (var m in active)
                m.SharedBatchSize = Math.Max(m.SharedBatchSize, images);

            if (onDevice is not null && StepOnDevice(onDevice, (StaticUnetCall)unet, active, offsets, rows, sample, timestep, shape, previewer,
                    activeTimings, runOptions, ct))
            {
                EndStep(stepStart, images);
                continue;
            }

            if (onDevice is { Held.Count: > 0 })
            {
                // back to stepping on the host (a member that cannot step there joined, or no fixed-shape UNet): the
                // members' latents and history come back first (counted with the tensor copies below)
                onDevice.Forget(active);
                foreach (var m in onDevice.Held.ToList())
                    onDevice.Fetch(m, itemLength);
            }

            // Pack the scaled latents: [uncond; cond] rows per member with CFG, one row per image otherwise; and each
            // row's timestep (the member's own step).
            for (var i = 0; i < active.Count; i++)
            {
                var m = active[i];
                var step = m.Step;
                for (var b = 0; b < m.Batch; b++)
                {
                    var scale = m.Samplers[b].InputScale(step);
                    var source = m.Latents.AsSpan(b * itemLength, itemLength);
                    var target = sample.Row(offsets[i] + b);
                    for (var k = 0; k < itemLength; k++)
                        target[k] = source[k] * scale;
                    if (m.UseCfg)
                        target.CopyTo(sample.Row(offsets[i] + m.Batch + b));
                }

                var t = (float)m.Samplers[0].Timesteps[step];
                if (timestep.Scalar)
                    timestep.Data[0] = t; // every active member is at the same step
                else
                    timestep.Data.AsSpan(offsets[i], m.RowsPerStep).Fill(t);
            }

            sample.Upload(rows);
            timestep.Upload(rows);
            StageTimings.AddShared(StageTimings.TensorIo, t0, activeTimings);

            t0 = Stopwatch.GetTimestamp();
            unet.Run(runOptions, rows);
            StageTimings.AddShared(StageTimings.Unet, t0, activeTimings);
            _loopCounters?.AddUnet(Stopwatch.GetTimestamp() - t0);

            t0 = Stopwatch.GetTimestamp();
            unetOut.Download(rows);
            StageTimings.AddShared(StageTimings.TensorIo, t0, activeTimings);

            t0 = Stopwatch.GetTimestamp();
            AdvanceAll(active, offsets, unetOut.Data, itemLength, previewer, shape, SamplerParallelFrom(options.SamplerParallelFrom), ct);
            StageTimings.AddShared(StageTimings.Advance, t0, activeTimings);
            EndStep(stepStart, images);
        }

        // members that ended this step leave (decoded here, or later on the engine's side thread)
        void EndStep(long stepStart, int images)
        {
            var t0 = Stopwatch.GetTimestamp();
            ending.Clear();
            foreach (var m in active)
            {
                if (m.Error is not null || m.LoopDone)
                    ending.Add(m);
            }

            decodeLater.Clear();
            if (Decoder is not null)
            {
                decodeLater.AddRange(ending.Where(NeedsDecoding));
                ending.RemoveAll(NeedsDecoding);
            }

            FinishTogether(ending, leaving, shape, runOptions);
            // (before Hand and the decoder: a member handed on is decoded or encoded on another thread, so the loop no
            // longer touches its timings)
            StageTimings.AddShared(StageTimings.Leave, t0, activeTimings);
            StageTimings.AddShared(StageTimings.Loop, stepStart, activeTimings);
            _loopCounters?.Stepped(stepStart, Stopwatch.GetTimestamp(), images);
            Hand(leaving, joining);
            if (decodeLater.Count > 0)
                DecodeLater([.. decodeLater], shape, runOptions, joining);
            if (joining is not null)
                members.RemoveAll(m => m.Handed); // a joinable run may go on for hours: it keeps only those still in it
        }
    }

    /// <summary>A member whose every step can run in the latent step graph: DPM++ 2M or Euler, without CFG rescale.</summary>
    private static bool StepsLinearly(BatchMember m) => m.Request.GuidanceRescale == 0 && m.Samplers[0].StepsLinearly;

    /// <summary>
    /// One step with the latents kept where the fixed-shape UNet runs (<see cref="DeviceLatents"/>): members that
    /// entered (or moved) are placed, the UNet runs on the inputs the last step left in its sample tensor, the latent step
    /// graph takes every member's step, progress is reported (a due preview reads that member's denoised rows) and the
    /// latents of members that ended come back. False, before anything ran, when this step cannot run so (a member that
    /// steps on the host, no fixed-shape UNet, or a refused UNet call): the caller steps on the host.
    /// </summary>
    private bool StepOnDevice(DeviceLatents onDevice, StaticUnetCall unet, List<BatchMember> active, List<int> offsets, int rows,
        RowTensor sample, RowTensor timestep, RunShape shape, LatentPreviewer previewer, List<StageTimings> activeTimings, RunOptions runOptions,
        CancellationToken ct)
    {
        if (unet.Current is not { } fixedUnet || !active.TrueForAll(StepsLinearly))
            return false;
        var itemLength = shape.ItemLength;
        var t0 = Stopwatch.GetTimestamp();
        onDevice.Forget(active);
        if (!ReferenceEquals(onDevice.Unet, fixedUnet))
        {
            // another fixed-shape UNet (another power of two of rows): its sample tensor holds none of the inputs
            foreach (var m in onDevice.Held.ToList())
                onDevice.Fetch(m, itemLength);
            onDevice.Unet = fixedUnet;
        }

        // members the layout moved are read back before any member is written
        for (var i = 0; i < active.Count; i++)
        {
            var at = onDevice.OffsetOf(active[i]);
            if (at >= 0 && at != offsets[i])
                onDevice.Fetch(active[i], itemLength);
        }

        for (var i = 0; i < active.Count; i++)
        {
            var m = active[i];
            if (onDevice.OffsetOf(m) < 0)
                onDevice.Place(m, offsets[i], itemLength, sample);
            timestep.Data.AsSpan(offsets[i], m.RowsPerStep).Fill((float)m.Samplers[0].Timesteps[m.Step]);
        }

        timestep.Upload(rows);
        StageTimings.AddShared(StageTimings.TensorIo, t0, activeTimings);
        t0 = Stopwatch.GetTimestamp();
        if (!unet.RunOnDevice(runOptions, rows))
            return false;
        StageTimings.AddShared(StageTimings.Unet, t0, activeTimings);
        _loopCounters?.AddUnet(Stopwatch.GetTimestamp() - t0);

        t0 = Stopwatch.GetTimestamp();
        onDevice.Step(runOptions, fixedUnet.Shape.Rows, shape.Steps);
        StageTimings.AddShared(StageTimings.Advance, t0, activeTimings);
        Action<BatchMember> fetchDenoised = member => onDevice.FetchDenoised(member, itemLength);
        foreach (var m in active)
        {
            try
            {
                Report(m, m.Step, previewer, shape.Channels, shape.LatentH, shape.LatentW, fetchDenoised);
            }
            catch (Exception ex) when (!ct.IsCancellationRequested)
            {
                Fail(m, ex);
            }

            m.Step++;
            if (m.Step < shape.Steps)
                continue;
            m.LoopDone = true;
            t0 = Stopwatch.GetTimestamp();
            onDevice.Fetch(m, itemLength); // its final latents, for the decoder
            m.Timings.Add(StageTimings.TensorIo, t0);
        }

        return true;
    }

    /// <summary>Members from which a step's sampler work may be spread over the CPU's cores (the GPU waits for it).</summary>
    private const int ParallelMembers = 4;

    /// <summary>How many stepped latent values one freshly drawn noise value counts as, in <see cref="AdvanceAll"/>'s choice.</summary>
    private const int NoiseCostFactor = 32;

    /// <summary>
    /// Latent values of one step's sampler work from which it is spread over the cores: <paramref name="configured"/>
    /// (<see cref="InferenceOptions.SamplerParallelFrom"/>), automatically 1,048,576 (~1 ms of DPM++ 2M work on one core
    /// of the CPU machine with the SIMD step, 64 images at 1024²: never the bundled model's DPM++ runs, whose 32 images at
    /// 128² take ~0.04 ms a step alone; its Euler a runs from 32 images, whose noise takes ~3 ms a step alone).
    /// </summary>
    internal static int SamplerParallelFrom(int configured) => configured > 0 ? configured : 1 << 20;

    /// <summary>
    /// CFG, sampler step and progress for every active member after a UNet call; in parallel across members (each touches
    /// only its own buffers, samplers and progress sink) when there are several and the step's latent values (a value
    /// that needs fresh noise counted <see cref="NoiseCostFactor"/> times) reach <paramref name="parallelFrom"/>, else on
    /// the loop's own thread, which no busy thread pool can hold up. A member's failure fails it alone.
    /// </summary>
    private static void AdvanceAll(List<BatchMember> active, List<int> offsets, float[] output, int itemLength, LatentPreviewer previewer, RunShape shape,
        int parallelFrom, CancellationToken ct)
    {
        void One(int i)
        {
            var m = active[i];
            try
            {
                Advance(m, m.Step, output.AsSpan(offsets[i] * itemLength, m.RowsPerStep * itemLength), itemLength);
                Report(m, m.Step, previewer, shape.Channels, shape.LatentH, shape.LatentW);
            }
            catch (Exception ex) when (!ct.IsCancellationRequested)
            {
                Fail(m, ex);
            }

            m.Step++;
            if (m.Step >= shape.Steps)
                m.LoopDone = true;
        }

        // a latent value drawn fresh from the noise generator (ancestral samplers, every step) costs as much as ~32 that
        // are only stepped (Philox + Box–Muller in double, ~100 ns a value on this project's CPU machine, against ~1 ns)
        var values = 0L;
        foreach (var m in active)
            values += (long)m.Batch * itemLength * (m.Samplers[0].NeedsNoise(m.Step) ? NoiseCostFactor : 1);
        if (active.Count < ParallelMembers || values < parallelFrom || Environment.ProcessorCount == 1)
        {
            for (var i = 0; i < active.Count; i++)
                One(i);
            return;
        }

        try
        {
            Parallel.For(0, active.Count, One);
        }
        catch (AggregateException) when (ct.IsCancellationRequested)
        {
            ct.ThrowIfCancellationRequested(); // (as the sequential loop would: the run's cancellation ends it)
        }
    }

    /// <summary>The way this run calls the UNet: fixed-shape sessions where configured, else bound or direct.</summary>
    private IUnetCall CreateUnetCall(UnetTensors tensors, int latentH, int latentW)
    {
        IUnetCall ordinary = options.UseIoBinding
            ? new BoundUnetCall(model.Unet.Session, model.UnetOutput, tensors)
            : new DirectUnetCall(model.Unet.Session, model.UnetOutput, tensors);
        return model.StaticUnets is { } cache ? new StaticUnetCall(cache, latentH, latentW, tensors, ordinary) : ordinary;
    }

    /// <summary>CFG (and its rescale) for one member, then one sampler step per image.</summary>
    private static void Advance(BatchMember m, int step, ReadOnlySpan<float> output, int itemLength)
    {
        var t0 = Stopwatch.GetTimestamp();
        var length = m.Batch * itemLength;
        if (m.UseCfg)
        {
            GuidanceMath.Combine(output[..length], output[length..], m.Request.GuidanceScale, m.Guided);
            GuidanceMath.Rescale(m.Guided, output[length..], m.Request.GuidanceRescale, m.Batch);
        }
        else
        {
            output[..length].CopyTo(m.Guided);
        }

        var needsNoise = m.Samplers[0].NeedsNoise(step);
        if (needsNoise)
        {
            var tn = Stopwatch.GetTimestamp();
            DrawNoise(m.Generators, m.Noise, itemLength, m.Request.Temperature);
            m.Timings.Add(StageTimings.Noise, tn);
        }

        for (var b = 0; b < m.Batch; b++)
        {
            var slice = new Range(b * itemLength, (b + 1) * itemLength);
            ReadOnlySpan<float> noise = needsNoise ? m.Noise.AsSpan(slice) : default;
            m.Samplers[b].Step(step, m.Guided.AsSpan(slice), m.Latents.AsSpan(slice), noise, m.Denoised.AsSpan(slice));
        }

        m.Timings.Add(StageTimings.Scheduler, t0);
    }

    /// <summary>Progress for one member; its preview only when due and, via <see cref="IPreviewDemand"/>, wanted.</summary>
    private static void Report(BatchMember m, int step, LatentPreviewer previewer, int channels, int latentH, int latentW,
        Action<BatchMember>? beforePreview = null)
    {
        if (m.Progress is null)
            return;
        var t0 = Stopwatch.GetTimestamp();
        var done = step - m.StartStep + 1;
        var total = m.TotalSteps;
        var interval = m.Request.PreviewInterval;
        IReadOnlyList<PreviewFrame>? previews = null;
        if (interval > 0 && (done % interval == 0 || done == total) && (m.Progress is not IPreviewDemand demand || demand.WantsPreview(done, total)))
        {
            beforePreview?.Invoke(m);
            previews = previewer.Render(m.Denoised, m.Batch, channels, latentH, latentW);
        }
        var loopElapsed = Stopwatch.GetElapsedTime(m.LoopStart);
        var eta = TimeSpan.FromTicks(loopElapsed.Ticks / done * (total - done));
        var sampler = m.Samplers[0];
        m.Progress.Report(new GenerationProgress(done, total, sampler.Timesteps[step], sampler.SigmaAt(step),
            Stopwatch.GetElapsedTime(m.JobStart), eta, previews));
        m.Timings.Add(StageTimings.Preview, t0);
    }

    private (float[] Hidden, int HiddenSize) EncodeText(List<WeightedTokens> prompts, RunOptions runOptions, List<StageTimings> timings)
    {
        var t0 = Stopwatch.GetTimestamp();
        using var ids = new TensorBuffer(model.IdsType, [prompts.Count, ClipTokenizer.MaxLength]);
        for (var p = 0; p < prompts.Count; p++)
        {
            for (var i = 0; i < ClipTokenizer.MaxLength; i++)
                ids.Data[p * ClipTokenizer.MaxLength + i] = prompts[p].Ids[i];
        }

        ids.Upload();
        StageTimings.AddShared(StageTimings.TensorIo, t0, timings);
        t0 = Stopwatch.GetTimestamp();
        using var results = RunGraph(() => model.TextEncoder.Session.Run(runOptions, ["input_ids"], [ids.Value], [model.TextEncoderOutput]));
        StageTimings.AddShared(StageTimings.TextEncoder, t0, timings);
        t0 = Stopwatch.GetTimestamp();
        var hidden = TensorBuffer.ReadFloats(results[0]);
        var hiddenSize = hidden.Length / (prompts.Count * ClipTokenizer.MaxLength);
        var block = ClipTokenizer.MaxLength * hiddenSize;
        for (var p = 0; p < prompts.Count; p++)
            WeightedPromptEncoder.ApplyWeights(hidden.AsSpan(p * block, block), prompts[p].Weights, hiddenSize);
        StageTimings.AddShared(StageTimings.TensorIo, t0, timings);
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
        using var results = RunGraph(() => encoder.Session.Run(runOptions, ["sample"], [pixels.Value], [model.VaeEncoderOutput]));
        timings.Add(StageTimings.VaeEncode, t0);
        var latent = TensorBuffer.ReadFloats(results[0]);
        if (latent.Length != itemLength)
            throw new InvalidOperationException($"vae_encoder/model.onnx returned {latent.Length} values; expected {itemLength}.");
        var scaling = (float)model.Info.ScalingFactor;
        for (var i = 0; i < latent.Length; i++)
            latent[i] *= scaling;
        return latent;
    }

    /// <summary>A session's run as ordinary device work (see <see cref="CudaGraphCapture"/>).</summary>
    private static T RunGraph<T>(Func<T> run)
    {
        using var work = CudaGraphCapture.Work();
        return run();
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
}
