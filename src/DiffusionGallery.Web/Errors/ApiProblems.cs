using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.Net.Http.Headers;

namespace DiffusionGallery.Web.Errors;

/// <summary>
/// Error bodies for answers that would otherwise have none. The REST API (<c>/api/…</c>) always answers errors as
/// <c>application/problem+json</c> with a title and a detail saying what to do; the A1111 API (<c>/sdapi/…</c>) as FastAPI
/// does, <c>{"detail": "Not Found"}</c>. Endpoints that know more (which image, which job) answer their own problem; this
/// fills in the rest: 401 from authentication, 403 from authorization, 404 for unknown paths, 405, 415.
/// </summary>
public static class ApiProblems
{
    /// <summary>A 404 problem naming what was not found.</summary>
    public static ProblemHttpResult NotFound(string detail) => TypedResults.Problem(detail, statusCode: StatusCodes.Status404NotFound, title: "Not found.");

    /// <summary>Status-code-pages handler for <c>/api/…</c>: problem+json (whatever the Accept header says).</summary>
    public static Task WriteProblemAsync(StatusCodeContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var http = context.HttpContext;
        var status = http.Response.StatusCode;
        var (title, detail) = Describe(http, status);
        return TypedResults.Problem(detail, statusCode: status, title: title).ExecuteAsync(http);
    }

    /// <summary>Status-code-pages handler for <c>/sdapi/…</c>: FastAPI's <c>{"detail": reason}</c> (e.g. "Not Found", "Method Not Allowed").</summary>
    public static Task WriteFastApiDetailAsync(StatusCodeContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var http = context.HttpContext;
        return http.Response.WriteAsJsonAsync(new { detail = ReasonPhrases.GetReasonPhrase(http.Response.StatusCode) });
    }

    internal static (string Title, string Detail) Describe(HttpContext http, int status)
    {
        var request = http.Request;
        return status switch
        {
            StatusCodes.Status401Unauthorized => ("Sign-in required.", request.Headers.ContainsKey(HeaderNames.Authorization)
                ? "The access token is unknown, revoked, or its account is locked or disabled. Create a new one at /account/tokens."
                : "Send a personal access token (Authorization: Bearer dgp_…; create one at /account/tokens) or sign in."),
            StatusCodes.Status403Forbidden => ("Forbidden.", request.Path.StartsWithSegments("/api/admin")
                ? "This needs the Admin role."
                : "Your account may not do this."),
            StatusCodes.Status404NotFound => ("Not found.", http.GetEndpoint() is null
                ? $"There is no API endpoint {request.Method} {request.Path}."
                : "It does not exist, or it is not yours."),
            StatusCodes.Status405MethodNotAllowed => ("Method not allowed.", $"{request.Method} is not allowed on {request.Path}."),
            StatusCodes.Status415UnsupportedMediaType => ("Unsupported media type.", "Send the body as JSON (Content-Type: application/json)."),
            _ => (ReasonPhrases.GetReasonPhrase(status) is { Length: > 0 } reason ? reason + "." : "Error.", $"The request failed with status {status}."),
        };
    }
}
