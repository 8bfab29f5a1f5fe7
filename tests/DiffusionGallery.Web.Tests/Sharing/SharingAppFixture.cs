using DiffusionGallery.Web.Data;
using DiffusionGallery.Web.Data.Entities;
using DiffusionGallery.Web.Gallery;
using DiffusionGallery.Web.Tests.Integration;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace DiffusionGallery.Web.Tests.Sharing;

/// <summary>The real app on a temporary SQLite file, with an admin (the first account) registered first.</summary>
public sealed class SharingAppFixture : IAsyncLifetime
{
    public GalleryAppFactory App { get; } = new();
    public HttpClient Admin { get; private set; } = default!;
    public string AdminId { get; private set; } = "";

    public async ValueTask InitializeAsync()
    {
        (Admin, AdminId) = await App.RegisterAsync($"admin-{Guid.NewGuid():N}@example.test");
    }

    public ValueTask DisposeAsync() => App.DisposeAsync();

    public HttpClient Anonymous() => App.CreateClient(new WebApplicationFactoryClientOptions { AllowAutoRedirect = false, HandleCookies = false });

    public Task<GeneratedImage> AddImageAsync(string ownerId, string prompt, ImageVisibility visibility = ImageVisibility.Private, bool hidePrompt = false,
        bool allowRemix = true, Guid? parent = null, int steps = 20) =>
        SharingSeed.AddImageAsync(App.Services.GetRequiredService<IDbContextFactory<ApplicationDbContext>>(), App.Services.GetRequiredService<ImageStore>(),
            ownerId, prompt, visibility, hidePrompt, allowRemix, parent, steps);
}
