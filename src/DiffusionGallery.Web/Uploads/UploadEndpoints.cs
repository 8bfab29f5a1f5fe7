using System.Security.Claims;
using DiffusionGallery.Web.Accounts;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Http.HttpResults;

namespace DiffusionGallery.Web.Uploads;

public sealed record UploadDto(Guid Id, int Width, int Height);

/// <summary>POST /api/uploads (multipart, field <c>file</c>), GET /api/uploads/{id} (the stored PNG), DELETE /api/uploads/{id}.</summary>
public static class UploadEndpoints
{
    /// <summary>Room for the multipart boundaries and headers around the file.</summary>
    private const long MultipartOverhead = 64 * 1024;

    public static IEndpointRouteBuilder MapUploadEndpoints(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/api/uploads").RequireAuthorization(AuthPolicies.Api).WithTags("Uploads");
        api.MapPost("", CreateAsync).WithName("CreateUpload")
            .WithSummary("Upload a reference image (multipart/form-data, field 'file'): PNG, JPEG or WebP, at most 10 MB and 4096x4096.")
            .ProducesProblem(StatusCodes.Status400BadRequest).ProducesProblem(StatusCodes.Status413PayloadTooLarge).ProducesProblem(StatusCodes.Status415UnsupportedMediaType);
        api.MapGet("/{id:guid}", GetAsync).WithName("GetUpload").WithSummary("The stored (re-encoded) PNG of one of your uploads.");
        api.MapDelete("/{id:guid}", DeleteAsync).WithName("DeleteUpload").WithSummary("Delete one of your uploads.");
        return app;
    }

    private static string UserId(ClaimsPrincipal user) => user.FindFirstValue(ClaimTypes.NameIdentifier) ?? throw new UnauthorizedAccessException();

    private static async Task<Results<Created<UploadDto>, ProblemHttpResult>> CreateAsync(HttpContext http, UploadService uploads, CancellationToken cancellationToken)
    {
        var max = uploads.Options.MaxBytes;
        var request = http.Request;
        var started = System.Diagnostics.Stopwatch.GetTimestamp();
        // How long the server took to accept or refuse (the client sees it as Server-Timing: upload;dur=…).
        http.Response.OnStarting(() =>
        {
            http.Response.Headers["Server-Timing"] = FormattableString.Invariant($"upload;dur={System.Diagnostics.Stopwatch.GetElapsedTime(started).TotalMilliseconds:F1}");
            return Task.CompletedTask;
        });
        try
        {
            if (request.ContentLength > max + MultipartOverhead) throw UploadRejectedException.TooLarge(max);
            if (!request.HasFormContentType)
                throw new UploadRejectedException(StatusCodes.Status415UnsupportedMediaType, "Unsupported request",
                    "Send the image as multipart/form-data with the field 'file'.");
            if (http.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } bodyLimit)
                bodyLimit.MaxRequestBodySize = max + MultipartOverhead;

            IFormCollection form;
            try
            {
                form = await request.ReadFormAsync(cancellationToken);
            }
            catch (Exception ex) when (ex is BadHttpRequestException { StatusCode: StatusCodes.Status413PayloadTooLarge } || ex is InvalidDataException && ex.Message.Contains("limit", StringComparison.OrdinalIgnoreCase))
            {
                throw UploadRejectedException.TooLarge(max);
            }
            catch (Exception ex) when (ex is InvalidDataException or IOException or BadHttpRequestException)
            {
                throw UploadRejectedException.Invalid($"The multipart body could not be read: {ex.Message}");
            }
            var file = form.Files.GetFile("file") ?? throw UploadRejectedException.Invalid("The request has no file in the field 'file'.");
            if (file.Length > max) throw UploadRejectedException.TooLarge(max);
            await using var stream = file.OpenReadStream();
            var upload = await uploads.CreateAsync(UserId(http.User), stream, file.Length, cancellationToken);
            return TypedResults.Created($"/api/uploads/{upload.Id}", new UploadDto(upload.Id, upload.Width, upload.Height));
        }
        catch (UploadRejectedException ex)
        {
            return TypedResults.Problem(ex.Message, statusCode: ex.StatusCode, title: ex.Title);
        }
    }

    private static async Task<Results<FileContentHttpResult, ProblemHttpResult>> GetAsync(Guid id, ClaimsPrincipal user, UploadService uploads, HttpContext http, CancellationToken cancellationToken)
    {
        var png = await uploads.ReadPngAsync(UserId(user), id, cancellationToken);
        if (png is null) return Errors.ApiProblems.NotFound($"You have no upload {id}.");
        http.Response.Headers.CacheControl = "private, max-age=3600";
        return TypedResults.File(png, "image/png");
    }

    private static async Task<Results<NoContent, ProblemHttpResult>> DeleteAsync(Guid id, ClaimsPrincipal user, UploadService uploads, CancellationToken cancellationToken) =>
        await uploads.DeleteAsync(UserId(user), id, cancellationToken) ? TypedResults.NoContent() : Errors.ApiProblems.NotFound($"You have no upload {id}.");
}
