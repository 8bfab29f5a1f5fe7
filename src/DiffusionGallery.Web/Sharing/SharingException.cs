namespace DiffusionGallery.Web.Sharing;

/// <summary>A sharing request that cannot be done, with the message for the user; endpoints map it to problem+json.</summary>
public sealed class SharingException(int status, string message, string? field = null) : Exception(message)
{
    public int Status { get; } = status;
    public string? Field { get; } = field;

    public static SharingException Invalid(string field, string message) => new(StatusCodes.Status400BadRequest, message, field);
    public static SharingException NotFound(string what) => new(StatusCodes.Status404NotFound, $"{what} does not exist or is not shared with you.");
    public static SharingException Forbidden(string message) => new(StatusCodes.Status403Forbidden, message);
}
