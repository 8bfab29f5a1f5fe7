using DiffusionGallery.Web.Accounts;
using DiffusionGallery.Web.Data.Entities;

namespace DiffusionGallery.Web.Sharing.Endpoints;

/// <summary>The sharing REST API: the same services and rules as the pages.</summary>
public static class SharingApi
{
    public static IEndpointRouteBuilder MapSharingApi(this IEndpointRouteBuilder app)
    {
        // Signed in (cookie or personal access token): an owner's switches, likes, collections.
        var owner = app.MapGroup("/api").RequireAuthorization(AuthPolicies.Api).AddEndpointFilter<SharingProblems>().WithTags("Sharing");
        owner.MapPatch("/images/{id:guid}", async (Guid id, ImageSharingPatch patch, HttpContext http, SharingService sharing) =>
                await sharing.PatchAsync(Owner(http), id, patch, http.RequestAborted) is { } dto ? Results.Ok(dto) : NotFound("The image"))
            .WithName("UpdateImageSharing").WithSummary("Visibility (Private|Unlisted|Public), hidePrompt, allowRemix of one of your images; any subset.");
        owner.MapPost("/images/{id:guid}/share-link", async (Guid id, HttpContext http, SharingService sharing) =>
                await sharing.RotateLinkAsync(Owner(http), id, http.RequestAborted) is { } dto ? Results.Ok(dto) : NotFound("The image"))
            .WithName("ReplaceShareLink").WithSummary("A new share link for one of your images; the old one answers 404 from now on.");
        owner.MapPut("/images/{id:guid}/like", (Guid id, HttpContext http, LikeService likes) => LikeAsync(id, true, http, likes))
            .WithName("LikeImage").WithSummary("Like an image you may see (idempotent).");
        owner.MapDelete("/images/{id:guid}/like", (Guid id, HttpContext http, LikeService likes) => LikeAsync(id, false, http, likes))
            .WithName("UnlikeImage").WithSummary("Remove your like (idempotent).");
        owner.MapGet("/me/liked", async (HttpContext http, ExploreService explore, int? page, int? pageSize) =>
                Results.Ok(await explore.QueryAsync(new ExploreQuery(Page: page ?? 1, PageSize: pageSize ?? 24, LikedBy: Owner(http)), Viewer.From(http.User), http.RequestAborted)))
            .WithName("LikedImages").WithSummary("Public images you liked, newest first.");

        owner.MapPost("/collections", async (CollectionCreate request, HttpContext http, CollectionService collections) =>
            {
                var dto = await collections.CreateAsync(Owner(http), request, http.RequestAborted);
                return Results.Created($"/api/collections/{dto.Id}", dto);
            })
            .WithName("CreateCollection").WithSummary("A new, Private collection: name and description.");
        owner.MapGet("/collections", async (HttpContext http, CollectionService collections) => Results.Ok(await collections.ListAsync(Owner(http), http.RequestAborted)))
            .WithName("ListCollections").WithSummary("Your collections.");
        owner.MapGet("/collections/{id:guid}", async (Guid id, HttpContext http, CollectionService collections) =>
                await collections.GetAsync(Owner(http), id, http.RequestAborted) is { } dto ? Results.Ok(dto) : NotFound("The collection"))
            .WithName("GetCollection");
        owner.MapPut("/collections/{id:guid}/images", async (Guid id, CollectionImagesPut request, HttpContext http, CollectionService collections) =>
                await collections.SetImagesAsync(Owner(http), id, request, http.RequestAborted) is { } dto ? Results.Ok(dto) : NotFound("The collection"))
            .WithName("SetCollectionImages").WithSummary("Replace the collection's images (your own images only), in this order.");
        owner.MapPatch("/collections/{id:guid}", async (Guid id, CollectionPatch patch, HttpContext http, CollectionService collections) =>
                await collections.PatchAsync(Owner(http), id, patch, http.RequestAborted) is { } dto ? Results.Ok(dto) : NotFound("The collection"))
            .WithName("UpdateCollection").WithSummary("Name, description, cover, visibility; shareUrl is /c/{token} unless Private.");
        owner.MapPost("/collections/{id:guid}/share-link", async (Guid id, HttpContext http, CollectionService collections) =>
                await collections.RotateLinkAsync(Owner(http), id, http.RequestAborted) is { } dto ? Results.Ok(dto) : NotFound("The collection"))
            .WithName("ReplaceCollectionLink");
        owner.MapDelete("/collections/{id:guid}", async (Guid id, HttpContext http, CollectionService collections) =>
                await collections.DeleteAsync(Owner(http), id, http.RequestAborted) ? Results.NoContent() : NotFound("The collection"))
            .WithName("DeleteCollection");

        // Anyone, signed in or not (a signed-in viewer is recognised by cookie or token).
        var open = app.MapGroup("/api").RequireAuthorization(SharingExtensions.ViewerPolicy).AddEndpointFilter<SharingProblems>().WithTags("Sharing");
        open.MapGet("/explore", ExploreAsync).WithName("Explore")
            .WithSummary("Public images: sort=newest|likes|remixes, period=week|all, search (prompts), model, page, pageSize.");
        open.MapGet("/users/{handle}/images", async (string handle, HttpContext http, UserProfiles profiles, ExploreService explore, int? page, int? pageSize) =>
                await profiles.FindByHandleAsync(handle, http.RequestAborted) is { } profile
                    ? Results.Ok(await explore.QueryAsync(new ExploreQuery(Page: page ?? 1, PageSize: pageSize ?? 24, CreatorId: profile.UserId), Viewer.From(http.User), http.RequestAborted))
                    : NotFound("The user"))
            .WithName("UserImages").WithSummary("A user's Public images, newest first.");
        open.MapGet("/images/{id:guid}/remix", async (Guid id, HttpContext http, ImageAccess access) =>
                await access.ByIdAsync(id, Viewer.From(http.User), http.RequestAborted) is { } grant ? Results.Ok(RemixPrefill.From(grant)) : NotFound("The image"))
            .WithName("RemixPrefill").WithSummary("Settings to prefill a remix (prompt fields omitted when hidden); 403 when remix is not allowed.");
        open.MapGet("/images/{id:guid}/lineage", async (Guid id, HttpContext http, ImageAccess access, LineageService lineage) =>
                await access.ByIdAsync(id, Viewer.From(http.User), http.RequestAborted) is { } grant ? Results.Ok(await lineage.BuildAsync(grant, http.RequestAborted)) : NotFound("The image"))
            .WithName("Lineage").WithSummary("Ancestors up to the root and the tree of descendants, each with what changed.");
        open.MapGet("/shared/images/{token}", async (string token, HttpContext http, ImageAccess access, SharedImageReader reader) =>
                await access.ByShareTokenAsync(token, Viewer.From(http.User), http.RequestAborted) is { } grant ? Results.Ok(await reader.ReadAsync(grant, http.RequestAborted)) : NotFound("The link"))
            .WithName("SharedImage").WithSummary("The image behind a share link.");
        open.MapGet("/shared/images/{token}/remix", async (string token, HttpContext http, ImageAccess access) =>
                await access.ByShareTokenAsync(token, Viewer.From(http.User), http.RequestAborted) is { } grant ? Results.Ok(RemixPrefill.From(grant)) : NotFound("The link"))
            .WithName("SharedRemixPrefill").WithSummary("Remix prefill through a share link (an Unlisted parent is not recorded in lineage).");
        open.MapGet("/shared/images/{token}/lineage", async (string token, HttpContext http, ImageAccess access, LineageService lineage) =>
                await access.ByShareTokenAsync(token, Viewer.From(http.User), http.RequestAborted) is { } grant ? Results.Ok(await lineage.BuildAsync(grant, http.RequestAborted)) : NotFound("The link"))
            .WithName("SharedLineage");
        open.MapGet("/shared/collections/{token}", async (string token, HttpContext http, CollectionService collections) =>
                await collections.GetSharedAsync(token, Viewer.From(http.User), http.RequestAborted) is { } dto ? Results.Ok(dto) : NotFound("The collection"))
            .WithName("SharedCollection").WithSummary("A collection behind its link; files are served under /c/{token}/images/{id}.");
        return app;
    }

    private static async Task<IResult> ExploreAsync(HttpContext http, ExploreService explore, string? sort, string? period, string? search, string? model, int? page, int? pageSize)
    {
        var query = new ExploreQuery(
            ParseOr(sort, ExploreSort.Newest, "sort", "Sort must be newest, likes or remixes."),
            ParseOr(period, ExplorePeriod.All, "period", "Period must be week or all."),
            search, model, page ?? 1, pageSize ?? 24);
        var started = System.Diagnostics.Stopwatch.GetTimestamp();
        var result = await explore.QueryAsync(query, Viewer.From(http.User), http.RequestAborted);
        // Server-Timing (W3C): the time spent answering, database included; scripts/explore-bench.py reads it.
        http.Response.Headers["Server-Timing"] = FormattableString.Invariant($"explore;dur={System.Diagnostics.Stopwatch.GetElapsedTime(started).TotalMilliseconds:0.00}");
        return Results.Ok(result);
    }

    private static T ParseOr<T>(string? value, T fallback, string field, string message) where T : struct, Enum =>
        string.IsNullOrWhiteSpace(value) ? fallback
        : Enum.TryParse<T>(value, ignoreCase: true, out var parsed) && Enum.IsDefined(parsed) && !int.TryParse(value, out _) ? parsed
        : throw SharingException.Invalid(field, message);

    private static async Task<IResult> LikeAsync(Guid id, bool like, HttpContext http, LikeService likes) =>
        await likes.SetAsync(id, Viewer.From(http.User), like, http.RequestAborted) is { } state ? Results.Ok(state) : NotFound("The image");

    private static string Owner(HttpContext http) => Viewer.From(http.User).UserId ?? throw new SharingException(StatusCodes.Status401Unauthorized, "Sign in first.");

    private static IResult NotFound(string what) =>
        Results.Problem($"{what} does not exist or is not shared with you.", statusCode: StatusCodes.Status404NotFound, title: "Not found");
}
