namespace DiffusionGallery.Web.Uploads;

/// <summary>An upload refused before it was stored; <see cref="StatusCode"/> is 400, 413 or 415 and the message says why.</summary>
public sealed class UploadRejectedException(int statusCode, string title, string message) : Exception(message)
{
    public int StatusCode { get; } = statusCode;
    public string Title { get; } = title;

    public static UploadRejectedException TooLarge(long maxBytes) =>
        new(StatusCodes.Status413PayloadTooLarge, "File too large", $"The file is larger than {maxBytes / (1024 * 1024)} MB, the largest upload accepted.");

    public static UploadRejectedException Unsupported(string what) =>
        new(StatusCodes.Status415UnsupportedMediaType, "Unsupported file type", $"{what} Upload a PNG, JPEG or WebP image.");

    public static UploadRejectedException Invalid(string message) =>
        new(StatusCodes.Status400BadRequest, "Invalid image", message);
}
