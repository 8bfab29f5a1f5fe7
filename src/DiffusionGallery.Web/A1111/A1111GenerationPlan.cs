using System.Security.Cryptography;
using System.Text.Json.Nodes;
using DiffusionGallery.Web.Data.Entities;
using DiffusionGallery.Web.Uploads;

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
    /// <summary>img2img: the init image's bytes, the denoising strength and the resize mode; null for txt2img.</summary>
    public A1111InitImage? InitImage { get; init; }

    public long SeedOf(int iteration) => Settings.Seed + (long)iteration * Settings.BatchCount;

    /// <summary>A1111's random seed: <c>random.randrange(4294967294)</c>.</summary>
    public static long RandomSeed() => RandomNumberGenerator.GetInt32(int.MaxValue) * 2L + RandomNumberGenerator.GetInt32(2);
}

/// <summary>
/// An img2img init image as the client sent it, base64 removed (<see cref="Bytes"/>: checked, decoded and re-encoded only
/// when stored as the caller's upload), its denoising strength and A1111's <c>resize_mode</c>.
/// </summary>
public sealed record A1111InitImage(byte[] Bytes, float Strength, int ResizeMode)
{
    /// <summary>
    /// <c>resize_mode</c> in our terms: 0 just resize and 3 latent upscale → Stretch, 1 crop and resize → Crop,
    /// 2 resize and fill → Pad (we fill with black; A1111 fills with the stretched image).
    /// </summary>
    public ReferenceImageFit Fit => ResizeMode switch
    {
        1 => ReferenceImageFit.Crop,
        2 => ReferenceImageFit.Pad,
        _ => ReferenceImageFit.Stretch,
    };
}
