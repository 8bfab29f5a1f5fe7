using System.Security.Cryptography;
using System.Text.Json.Nodes;
using DiffusionGallery.Web.Data.Entities;

namespace DiffusionGallery.Web.A1111;

/// <summary>What a txt2img/img2img request asks for, in our terms: <see cref="Iterations"/> jobs (A1111's
/// <c>n_iter</c>) of <see cref="GenerationSettings.BatchCount"/> images (<c>batch_size</c>); job i starts at seed
/// <c>Seed + i × batch_size</c>, so image k of the whole call has seed <c>Seed + k</c>, as in A1111.</summary>
public sealed record A1111GenerationPlan
{
    public required GenerationSettings Settings { get; init; }
    public int Iterations { get; init; } = 1;
    public bool SendImages { get; init; } = true;
    public required string SamplerName { get; init; }
    public required A1111ModelItem Model { get; init; }
    public IReadOnlyList<string> Warnings { get; init; } = [];
    /// <summary>The request as A1111 echoes it back in <c>parameters</c>, with the values used filled in.</summary>
    public required JsonObject Parameters { get; init; }
    /// <summary>img2img: the decoded, resized init image (PNG) and the denoising strength; null for txt2img.</summary>
    public A1111InitImage? InitImage { get; init; }

    public long SeedOf(int iteration) => Settings.Seed + (long)iteration * Settings.BatchCount;

    /// <summary>A1111's random seed: <c>random.randrange(4294967294)</c>.</summary>
    public static long RandomSeed() => RandomNumberGenerator.GetInt32(int.MaxValue) * 2L + RandomNumberGenerator.GetInt32(2);
}

/// <summary>An img2img init image after hardened decoding and A1111's resize mode.</summary>
public sealed record A1111InitImage(byte[] Png, float Strength, int ResizeMode);
