using System.Globalization;
using DiffusionGallery.Web.Errors;
using DiffusionGallery.Web.Generation;

namespace DiffusionGallery.Web.A1111;

/// <summary>
/// The domain errors in A1111's shapes: invalid settings → 422 <c>{"detail":[{"loc","msg","type"}]}</c> located at
/// A1111's field names; quota → 429 with Retry-After and a message naming the limit and when it resets; the rest
/// in A1111's <c>{"error","detail","body","errors"}</c>.
/// </summary>
public static class A1111ErrorMapping
{
    public static IResult ToResult(DomainException exception, HttpContext http, TimeProvider time)
    {
        switch (exception)
        {
            case RequestInvalidException invalid:
                return A1111Results.Unprocessable(invalid.FieldErrors.SelectMany(field =>
                    field.Value.Select(message => new A1111ValidationError(LocationOf(field.Key), message, "value_error"))));
            case QuotaExceededException quota:
                http.Response.Headers.RetryAfter = DomainErrorMapping.RetryAfterSeconds(quota, time.GetUtcNow()).ToString(CultureInfo.InvariantCulture);
                var detail = quota.ResetsAt is { } resets && !quota.Message.Contains("UTC", StringComparison.Ordinal)
                    ? $"{quota.Message} Resets at {resets.UtcDateTime:yyyy-MM-dd HH:mm} UTC."
                    : quota.Message;
                return TypedResults.Json(new
                {
                    error = "QuotaExceeded",
                    detail,
                    body = "",
                    errors = detail,
                    limit = quota.Limit,
                    remaining = quota.Remaining,
                    resets_at = quota.ResetsAt,
                }, A1111Json.Options, statusCode: StatusCodes.Status429TooManyRequests);
            case SignInRequiredException:
                return TypedResults.Json(new { detail = "Not authenticated" }, A1111Json.Options, statusCode: StatusCodes.Status401Unauthorized);
            case ForbiddenException:
                return A1111Results.Error(StatusCodes.Status403Forbidden, "Forbidden", exception.Message);
            default:
                return A1111Results.Error(StatusCodes.Status404NotFound, "NotFound", exception.Message);
        }
    }

    /// <summary>Where a field of our settings sits in an A1111 body.</summary>
    public static IReadOnlyList<object> LocationOf(string field) => field switch
    {
        GenerationRequestFactory.Fields.NegativePrompt => ["body", "negative_prompt"],
        GenerationRequestFactory.Fields.GuidanceScale => ["body", "cfg_scale"],
        GenerationRequestFactory.Fields.BatchCount => ["body", "batch_size"],
        GenerationRequestFactory.Fields.Sampler => ["body", "sampler_name"],
        GenerationRequestFactory.Fields.Model => ["body", "override_settings", "sd_model_checkpoint"],
        GenerationRequestFactory.Fields.Temperature => ["body"],
        "strength" => ["body", "denoising_strength"],
        "initImage" => ["body", "init_images", 0],
        _ => ["body", field],
    };
}
