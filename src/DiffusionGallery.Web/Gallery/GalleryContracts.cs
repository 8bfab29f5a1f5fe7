using DiffusionGallery.Inference.Abstractions;
using DiffusionGallery.Web.Data.Entities;

namespace DiffusionGallery.Web.Gallery;

public sealed record ImageLinks(string Self, string Png, string Thumbnail);

public sealed record ImageDto(
    Guid Id, DateTimeOffset CreatedAt, string Prompt, string NegativePrompt, string Model, string ModelHash, SamplerKind Sampler,
    bool KarrasSigmas, int Steps, float GuidanceScale, int Width, int Height, long Seed, float Temperature, string ExecutionProvider,
    string ParametersText, string FileHash, long FileSize, Guid? JobId, ImageLinks Links)
{
    public static ImageDto From(GeneratedImage i) => new(
        i.Id, i.CreatedAt, i.Settings.Prompt, i.Settings.NegativePrompt, i.ModelName, i.ModelHash, i.Settings.Sampler,
        i.Settings.KarrasSigmas, i.Settings.Steps, i.Settings.GuidanceScale, i.Width, i.Height, i.Seed, i.Settings.Temperature, i.ExecutionProvider,
        i.ParametersText, i.FileHash, i.FileSize, i.JobId, ApiLinks.For(i.Id));
}

public sealed record ImagePageDto(IReadOnlyList<ImageDto> Items, int Total, int Page, int PageSize);

public static class ApiLinks
{
    public static ImageLinks For(Guid imageId) => new($"/api/images/{imageId}", $"/images/{imageId}", $"/images/{imageId}/thumb");
}
