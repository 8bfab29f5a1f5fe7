using DiffusionGallery.Web.Gallery;

namespace DiffusionGallery.Web.Sharing.Endpoints;

/// <summary>
/// Image files for viewers: /images/{id} (owner, Public to anyone), /s/{token}/image|thumb (share link), and
/// /c/{token}/images/{id}[/thumb] (a shared collection). A hidden prompt is stripped from the PNG for everyone but the
/// owner and admins. Anyone else gets 404 and no bytes.
/// </summary>
public static class SharedFileEndpoints
{
    public static IEndpointRouteBuilder MapSharedFiles(this IEndpointRouteBuilder app)
    {
        var files = app.MapGroup("").RequireAuthorization(SharingExtensions.ViewerPolicy).ExcludeFromDescription();
        files.MapGet("/s/{token}/image", async (string token, bool? download, HttpContext http, ImageAccess access, ImageStore store) =>
            await PngAsync(await access.ByShareTokenAsync(token, Viewer.From(http.User), http.RequestAborted), store, download == true, http));
        files.MapGet("/s/{token}/thumb", async (string token, HttpContext http, ImageAccess access, ImageStore store) =>
            Thumb(await access.ByShareTokenAsync(token, Viewer.From(http.User), http.RequestAborted), store, http));
        files.MapGet("/c/{token}/images/{id:guid}", async (string token, Guid id, bool? download, HttpContext http, ImageAccess access, ImageStore store) =>
            await PngAsync(await access.ByCollectionAsync(token, id, Viewer.From(http.User), http.RequestAborted), store, download == true, http));
        files.MapGet("/c/{token}/images/{id:guid}/thumb", async (string token, Guid id, HttpContext http, ImageAccess access, ImageStore store) =>
            Thumb(await access.ByCollectionAsync(token, id, Viewer.From(http.User), http.RequestAborted), store, http));
        return app;
    }

    /// <summary>/images/{id}: the owner's file as stored; a Public image for anyone (stripped when its prompt is hidden).</summary>
    public static async Task<IResult> ByIdPngAsync(Guid id, bool download, HttpContext http, ImageAccess access, ImageStore store)
    {
        ArgumentNullException.ThrowIfNull(http);
        ArgumentNullException.ThrowIfNull(access);
        return await PngAsync(await access.ByIdAsync(id, Viewer.From(http.User), http.RequestAborted), store, download, http);
    }

    public static async Task<IResult> ByIdThumbAsync(Guid id, HttpContext http, ImageAccess access, ImageStore store)
    {
        ArgumentNullException.ThrowIfNull(http);
        ArgumentNullException.ThrowIfNull(access);
        return Thumb(await access.ByIdAsync(id, Viewer.From(http.User), http.RequestAborted), store, http);
    }

    private static async Task<IResult> PngAsync(ImageGrant? grant, ImageStore store, bool download, HttpContext http)
    {
        if (grant is null) return TypedResults.NotFound();
        var path = store.GetImagePath(grant.Image.Id);
        if (!File.Exists(path)) return TypedResults.NotFound();
        SetCaching(grant, http);
        var name = download ? $"diffusiongallery-{grant.Image.Id:N}.png" : null;
        if (grant.ShowPrompt) return TypedResults.PhysicalFile(path, "image/png", name, enableRangeProcessing: false);
        var stripped = PublicPng.StripMetadata(await File.ReadAllBytesAsync(path, http.RequestAborted));
        return TypedResults.File(stripped, "image/png", name);
    }

    private static IResult Thumb(ImageGrant? grant, ImageStore store, HttpContext http)
    {
        if (grant is null) return TypedResults.NotFound();
        var path = store.GetThumbnailPath(grant.Image.Id);
        if (!File.Exists(path)) return TypedResults.NotFound();
        SetCaching(grant, http);
        return TypedResults.PhysicalFile(path, "image/webp", enableRangeProcessing: false);
    }

    /// <summary>Own files may be cached by the browser; shared ones are revalidated, so a revoked link stops at once.</summary>
    private static void SetCaching(ImageGrant grant, HttpContext http) =>
        http.Response.Headers.CacheControl = grant.IsOwner ? "private, max-age=86400" : "no-cache";
}
