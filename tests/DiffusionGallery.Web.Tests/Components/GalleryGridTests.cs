using Bunit;
using DiffusionGallery.Web.Components.Pages.Gallery;
using DiffusionGallery.Web.Data.Entities;

namespace DiffusionGallery.Web.Tests.Components;

public sealed class GalleryGridTests : MudTestContext
{
    private static GeneratedImage Image(string prompt, long seed) => new()
    {
        Id = Guid.NewGuid(), OwnerId = "u", ModelName = "tiny-shapes", FileHash = "00", Seed = seed,
        Settings = new GenerationSettings { Prompt = prompt, Steps = 12, Sampler = DiffusionGallery.Inference.Abstractions.SamplerKind.EulerAncestral },
    };

    [Fact]
    public void Images_RenderCardsWithOwnerCheckedUrlsInGivenOrder()
    {
        var images = new[] { Image("newest", 2), Image("older", 1) };
        var grid = Render<GalleryGrid>(p => p.Add(x => x.Images, images));

        var cards = grid.FindAll("[data-testid=image-card]");
        Assert.Equal(2, cards.Count);
        Assert.Equal(images[0].Id.ToString(), cards[0].GetAttribute("data-image-id"));
        Assert.Equal($"images/{images[0].Id}/thumb", cards[0].QuerySelector("img")!.GetAttribute("src"));
        Assert.Equal($"images/{images[0].Id}?download=true", cards[0].QuerySelector("[data-testid=download]")!.GetAttribute("href"));
        Assert.Contains("Euler a", cards[0].TextContent);
        Assert.Contains("seed 2", cards[0].TextContent);
    }

    [Fact]
    public void KarrasImage_ShowsTheScheduleWithTheSampler()
    {
        var karras = Image("karras", 3);
        karras.Settings.Sampler = DiffusionGallery.Inference.Abstractions.SamplerKind.DpmPlusPlus2M;
        karras.Settings.KarrasSigmas = true;
        var grid = Render<GalleryGrid>(p => p.Add(x => x.Images, new[] { karras, Image("plain", 4) }));

        var cards = grid.FindAll("[data-testid=image-card]");
        Assert.Contains("DPM++ 2M Karras", cards[0].TextContent);
        Assert.DoesNotContain("Karras", cards[1].TextContent);
    }

    [Fact]
    public void NoImages_ShowsEmptyText()
    {
        var grid = Render<GalleryGrid>(p => p.Add(x => x.Images, Array.Empty<GeneratedImage>()).Add(x => x.EmptyText, "No images match."));
        Assert.Contains("No images match.", grid.Find("[data-testid=gallery-empty]").TextContent);
    }

    [Fact]
    public void DeleteButton_RaisesOnDeleteWithThatImage()
    {
        GeneratedImage? deleted = null;
        var images = new[] { Image("a", 1), Image("b", 2) };
        var grid = Render<GalleryGrid>(p => p.Add(x => x.Images, images).Add(x => x.OnDelete, i => deleted = i));

        grid.FindAll("[data-testid=image-card]")[1].QuerySelector("button[aria-label=Delete]")!.Click();
        Assert.Same(images[1], deleted);
    }
}
