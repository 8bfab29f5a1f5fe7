using System.Text.Json;

namespace DiffusionGallery.Web.Errors;

/// <summary>Reads a JSON request body; anything malformed becomes <see cref="RequestInvalidException"/> naming the field.</summary>
public static class JsonBody
{
    /// <summary>Key for errors about the body as a whole (empty, not JSON, wrong shape at the top level).</summary>
    public const string BodyField = "body";

    public static async Task<T> ReadAsync<T>(HttpRequest request, JsonSerializerOptions options, CancellationToken cancellationToken) where T : class
    {
        ArgumentNullException.ThrowIfNull(request);
        if (!request.HasJsonContentType())
            throw new RequestInvalidException(BodyField, "Send the body as JSON (Content-Type: application/json).");
        try
        {
            return await request.ReadFromJsonAsync<T>(options, cancellationToken)
                ?? throw new RequestInvalidException(BodyField, "The body is empty or null; send a JSON object.");
        }
        catch (JsonException ex)
        {
            throw Refusal(ex);
        }
    }

    /// <summary>The same for a JSON value that arrived another way (a hub method's argument).</summary>
    public static T Read<T>(JsonElement value, JsonSerializerOptions options) where T : class
    {
        if (value.ValueKind != JsonValueKind.Object) throw new RequestInvalidException(BodyField, "Send a JSON object.");
        try
        {
            return value.Deserialize<T>(options) ?? throw new RequestInvalidException(BodyField, "Send a JSON object.");
        }
        catch (JsonException ex)
        {
            throw Refusal(ex);
        }
    }

    private static RequestInvalidException Refusal(JsonException ex)
    {
        var field = FieldOf(ex.Path);
        if (ex is UnknownEnumNameException unknown)
        {
            var value = unknown.Value.Length <= 60 ? unknown.Value : unknown.Value[..60] + "…";
            return new RequestInvalidException(field, $"Unknown {field} '{value}'. Valid names: {string.Join(", ", unknown.ValidNames)}.", ex);
        }
        var problem = ex.Path is null or "$" ? "The body is not valid JSON" : $"'{field}' has the wrong type or is not valid JSON";
        var where = ex.LineNumber is { } line ? $" (line {line + 1}, position {(ex.BytePositionInLine ?? 0) + 1})" : "";
        return new RequestInvalidException(field, $"{problem}{where}.", ex);
    }

    /// <summary>"$.seed" → "seed", "$.items[0].name" → "items[0].name", "$" or null → "body".</summary>
    public static string FieldOf(string? path) =>
        string.IsNullOrEmpty(path) || path == "$" ? BodyField : path.StartsWith("$.", StringComparison.Ordinal) ? path[2..] : path.TrimStart('$');
}
