using System.Globalization;
using Microsoft.AspNetCore.Http.HttpResults;

namespace DiffusionGallery.Web.Errors;

/// <summary>The one translation of <see cref="DomainException"/>s for each surface: pages, problem+json, hub messages.</summary>
public static class DomainErrorMapping
{
    private static readonly IReadOnlyDictionary<string, string[]> NoFieldErrors = new Dictionary<string, string[]>();

    /// <summary>A sentence for a person (a page's alert, a hub error).</summary>
    public static string ToUserMessage(Exception exception) => exception switch
    {
        null => throw new ArgumentNullException(nameof(exception)),
        DomainException domain => domain.Message,
        _ => "Something went wrong on the server. Try again in a moment.",
    };

    /// <summary>Messages per field (camelCase, as in the REST body) for a form; empty when the error is not about fields.</summary>
    public static IReadOnlyDictionary<string, string[]> ToFieldMessages(Exception exception) =>
        exception is RequestInvalidException invalid ? invalid.FieldErrors : NoFieldErrors;

    /// <summary>An <c>application/problem+json</c> result (400 with "errors", 401, 403, 404, 429 with Retry-After).</summary>
    public static IResult ToProblem(DomainException exception, TimeProvider? time = null) => exception switch
    {
        RequestInvalidException invalid => TypedResults.ValidationProblem(invalid.FieldErrors, detail: invalid.Message, title: "The request is not valid."),
        QuotaExceededException quota => new QuotaProblemResult(quota, (time ?? TimeProvider.System).GetUtcNow()),
        NotFoundException => Problem(StatusCodes.Status404NotFound, "Not found.", exception.Message),
        ForbiddenException => Problem(StatusCodes.Status403Forbidden, "Forbidden.", exception.Message),
        SignInRequiredException => Problem(StatusCodes.Status401Unauthorized, "Sign-in required.", exception.Message),
        _ => Problem(StatusCodes.Status400BadRequest, "Bad request.", exception.Message),
    };

    /// <summary>Seconds a client should wait before asking again after a quota refusal (at least 1).</summary>
    public static int RetryAfterSeconds(QuotaExceededException quota, DateTimeOffset now) =>
        quota.ResetsAt is { } resets ? (int)Math.Clamp(Math.Ceiling((resets - now).TotalSeconds), 1, int.MaxValue) : 5;

    private static ProblemHttpResult Problem(int status, string title, string detail) => TypedResults.Problem(detail, statusCode: status, title: title);

    private sealed class QuotaProblemResult(QuotaExceededException quota, DateTimeOffset now) : IResult
    {
        public Task ExecuteAsync(HttpContext httpContext)
        {
            httpContext.Response.Headers.RetryAfter = RetryAfterSeconds(quota, now).ToString(CultureInfo.InvariantCulture);
            var extensions = new Dictionary<string, object?>
            {
                ["limit"] = quota.Limit,
                ["remaining"] = quota.Remaining,
                ["resetsAt"] = quota.ResetsAt,
            };
            return TypedResults.Problem(quota.Message, statusCode: StatusCodes.Status429TooManyRequests, title: "Quota exceeded.", extensions: extensions)
                .ExecuteAsync(httpContext);
        }
    }
}
