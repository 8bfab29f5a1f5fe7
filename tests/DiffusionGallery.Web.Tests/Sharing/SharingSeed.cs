using DiffusionGallery.Inference.Abstractions;
using DiffusionGallery.Web.Data;
using DiffusionGallery.Web.Data.Entities;
using DiffusionGallery.Web.Gallery;
using Microsoft.EntityFrameworkCore;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.Formats.Png;
using SixLabors.ImageSharp.PixelFormats;

namespace DiffusionGallery.Web.Tests.Sharing;

/// <summary>Stores images the way the worker does (a PNG with an A1111 "parameters" chunk, a WebP thumbnail, a row with its job).</summary>
internal static class SharingSeed
{
    public static byte[] Png(string parameters, byte red = 200)
    {
        using var image = new Image<Rgb24>(32, 32, new Rgb24(red, 40, 90));
        image.Metadata.GetPngMetadata().TextData.Add(new PngTextData("parameters", parameters, "", ""));
        using var stream = new MemoryStream();
        image.SaveAsPng(stream);
        return stream.ToArray();
    }

    public static async Task<GeneratedImage> AddImageAsync(
        IDbContextFactory<ApplicationDbContext> dbFactory, ImageStore? store, string ownerId, string prompt,
        ImageVisibility visibility = ImageVisibility.Private, bool hidePrompt = false, bool allowRemix = true, Guid? parent = null,
        int steps = 20, SamplerKind sampler = SamplerKind.EulerAncestral, long seed = 1, DateTimeOffset? createdAt = null, string model = "tiny-shapes")
    {
        var id = Guid.CreateVersion7();
        var settings = new GenerationSettings { Prompt = prompt, Steps = steps, Sampler = sampler, Seed = seed, Model = model };
        var parameters = $"{prompt}\nSteps: {steps}, Sampler: {sampler}, Seed: {seed}";
        var stored = store is null ? new StoredImage("00", 1) : await store.SaveAsync(id, Png(parameters), CancellationToken.None);
        await using var db = await dbFactory.CreateDbContextAsync();
        var job = new GenerationJob { Id = Guid.CreateVersion7(), OwnerId = ownerId, State = JobState.Succeeded, Settings = settings.Clone(), CreatedAt = createdAt ?? DateTimeOffset.UtcNow, ParentImageId = parent };
        db.GenerationJobs.Add(job);
        var image = new GeneratedImage
        {
            Id = id, OwnerId = ownerId, JobId = job.Id, Settings = settings, Seed = seed, Width = 32, Height = 32, ModelName = model, ParametersText = parameters,
            FileHash = stored.FileHash, FileSize = stored.FileSize, CreatedAt = createdAt ?? DateTimeOffset.UtcNow, ParentImageId = parent,
            Visibility = visibility, HidePrompt = hidePrompt, AllowRemix = allowRemix,
            ShareToken = visibility == ImageVisibility.Private ? null : DiffusionGallery.Web.Sharing.ShareTokens.New(),
        };
        db.GeneratedImages.Add(image);
        await db.SaveChangesAsync();
        return image;
    }
}
