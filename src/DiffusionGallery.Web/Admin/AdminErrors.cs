namespace DiffusionGallery.Web.Admin;

/// <summary>An admin request that cannot be carried out as asked; mapped to problem+json by <see cref="AdminApi"/>.</summary>
public class AdminRequestException(string message, int statusCode, IReadOnlyDictionary<string, string[]>? fieldErrors = null) : Exception(message)
{
    public int StatusCode { get; } = statusCode;
    public IReadOnlyDictionary<string, string[]> FieldErrors { get; } = fieldErrors ?? new Dictionary<string, string[]>();

    public static AdminRequestException Invalid(string message, IReadOnlyDictionary<string, string[]> fieldErrors) => new(message, StatusCodes.Status400BadRequest, fieldErrors);
    public static AdminRequestException NotFound(string what) => new($"{what} was not found.", StatusCodes.Status404NotFound);
    public static AdminRequestException Conflict(string message) => new(message, StatusCodes.Status409Conflict);
    public static AdminRequestException Forbidden() => new("This needs the Admin role.", StatusCodes.Status403Forbidden);
}
