namespace DiffusionGallery.Web.Errors;

/// <summary>
/// An error a user or client caused and can act on. Every surface maps these in one place: endpoints through
/// <see cref="DomainErrorEndpointFilter"/> (problem+json), the generation hub through <see cref="DomainErrorHubFilter"/>,
/// pages through <see cref="DomainErrorMapping"/>. Anything else is a server fault.
/// </summary>
public abstract class DomainException(string message, Exception? inner = null) : Exception(message, inner);

/// <summary>The request breaks one or more rules; <see cref="FieldErrors"/> names the fields as the REST body does (camelCase).</summary>
public sealed class RequestInvalidException : DomainException
{
    public RequestInvalidException(IReadOnlyDictionary<string, string[]> fieldErrors, Exception? inner = null)
        : base(Summarize(fieldErrors), inner)
    {
        ArgumentNullException.ThrowIfNull(fieldErrors);
        if (fieldErrors.Count == 0) throw new ArgumentException("At least one field error.", nameof(fieldErrors));
        FieldErrors = fieldErrors;
    }

    public RequestInvalidException(string field, string message, Exception? inner = null)
        : this(new Dictionary<string, string[]> { [field] = [message] }, inner) { }

    public IReadOnlyDictionary<string, string[]> FieldErrors { get; }

    private static string Summarize(IReadOnlyDictionary<string, string[]> errors) =>
        string.Join(" ", errors.SelectMany(e => e.Value));
}

/// <summary>
/// A limit on how much a user may ask for: <see cref="Limit"/> names it ("imagesPerDay", "queuedJobs", "queueLength"),
/// <see cref="Remaining"/> says what is left and <see cref="ResetsAt"/> when more becomes available (null: when work finishes).
/// </summary>
public sealed class QuotaExceededException(string limit, string message, long? remaining = null, DateTimeOffset? resetsAt = null)
    : DomainException(message)
{
    public string Limit { get; } = limit;
    public long? Remaining { get; } = remaining;
    public DateTimeOffset? ResetsAt { get; } = resetsAt;
}

/// <summary>The thing does not exist, or the caller may not know that it does (another user's job or image).</summary>
public sealed class NotFoundException(string message = "Not found.") : DomainException(message);

/// <summary>The caller is known but may not do this.</summary>
public sealed class ForbiddenException(string message = "You may not do that.") : DomainException(message);

/// <summary>The caller is anonymous (or their sign-in ended) and must sign in.</summary>
public sealed class SignInRequiredException(string message = "Sign in to do that.") : DomainException(message);
