using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace DiffusionGallery.Web.A1111;

/// <summary>
/// A JSON request body read field by field as pydantic (v1) would: null counts as absent, numbers in strings are
/// accepted, wrong types become <see cref="A1111ValidationError"/>s, and the fields nobody read are listed so they
/// can be ignored with a warning.
/// </summary>
public sealed class A1111Body
{
    private readonly JsonObject _body;
    private readonly HashSet<string> _read = new(StringComparer.Ordinal);

    private A1111Body(JsonObject body) => _body = body;

    public JsonObject Raw => _body;
    public List<A1111ValidationError> Errors { get; } = [];

    /// <summary>Parses the body; on failure returns the 422 to send.</summary>
    public static async Task<(A1111Body? Body, IResult? Error)> ReadAsync(HttpRequest request, long maxBytes, CancellationToken cancellationToken)
    {
        if (request.HttpContext.Features.Get<Microsoft.AspNetCore.Http.Features.IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } size)
            size.MaxRequestBodySize = maxBytes; // Kestrel's default (30 MB) is below a large base64 init image
        if (request.ContentLength > maxBytes)
            return (null, A1111Results.Error(StatusCodes.Status413PayloadTooLarge, "PayloadTooLarge", $"The request body is larger than {maxBytes} bytes."));
        JsonNode? node;
        try
        {
            using var limited = new LimitedStream(request.Body, maxBytes);
            node = await JsonNode.ParseAsync(limited, cancellationToken: cancellationToken);
        }
        catch (JsonException ex)
        {
            return (null, A1111Results.Unprocessable(new A1111ValidationError(["body", (int)(ex.BytePositionInLine ?? 0)], ex.Message, "value_error.jsondecode")));
        }
        catch (InvalidDataException ex)
        {
            return (null, A1111Results.Error(StatusCodes.Status413PayloadTooLarge, "PayloadTooLarge", ex.Message));
        }
        if (node is not JsonObject obj)
            return (null, A1111Results.Unprocessable(new A1111ValidationError(["body"], "value is not a valid dict", "type_error.dict")));
        return (new A1111Body(obj), null);
    }

    public static A1111Body From(JsonObject body) => new(body);

    public bool Has(string name) => _body[name] is not null;

    private JsonNode? Take(string name)
    {
        _read.Add(name);
        return _body[name];
    }

    /// <summary>Marks fields as understood (used or knowingly ignored without a warning).</summary>
    public void Accept(params string[] names)
    {
        foreach (var name in names) _read.Add(name);
    }

    /// <summary>Fields present with a value that is not neutral (null, false, 0, -1, "", [], {}), that nothing read.</summary>
    public IEnumerable<string> UnreadActiveFields() =>
        _body.Where(kv => !_read.Contains(kv.Key) && !IsNeutral(kv.Value)).Select(kv => kv.Key);

    internal static bool IsNeutral(JsonNode? value) => value switch
    {
        null => true,
        JsonArray a => a.Count == 0,
        JsonObject o => o.Count == 0,
        JsonValue v when v.TryGetValue<bool>(out var b) => !b,
        JsonValue v when v.TryGetValue<string>(out var s) => s.Length == 0,
        JsonValue v when v.TryGetValue<double>(out var d) => d is 0 or -1,
        _ => false,
    };

    public string? String(string name)
    {
        var node = Take(name);
        if (node is null) return null;
        if (node is JsonValue v && v.TryGetValue<string>(out var s)) return s;
        if (node is JsonValue n && n.GetValueKind() == JsonValueKind.Number) return n.ToJsonString();
        Errors.Add(A1111ValidationError.Body(name, "str type expected", "type_error.str"));
        return null;
    }

    public long? Integer(string name)
    {
        var node = Take(name);
        if (node is null) return null;
        if (node is JsonValue v)
        {
            if (v.TryGetValue<long>(out var l)) return l;
            if (v.TryGetValue<double>(out var d) && double.IsFinite(d) && Math.Abs(d) < 9e18 && d == Math.Floor(d)) return (long)d;
            if (v.TryGetValue<string>(out var s) && long.TryParse(s.Trim(), NumberStyles.Integer, CultureInfo.InvariantCulture, out var parsed)) return parsed;
        }
        Errors.Add(A1111ValidationError.Body(name, "value is not a valid integer", "type_error.integer"));
        return null;
    }

    public double? Number(string name)
    {
        var node = Take(name);
        if (node is null) return null;
        if (node is JsonValue v)
        {
            if (v.TryGetValue<double>(out var d) && double.IsFinite(d)) return d;
            if (v.TryGetValue<string>(out var s) && double.TryParse(s.Trim(), NumberStyles.Float, CultureInfo.InvariantCulture, out var parsed) && double.IsFinite(parsed)) return parsed;
        }
        Errors.Add(A1111ValidationError.Body(name, "value is not a valid float", "type_error.float"));
        return null;
    }

    public bool? Boolean(string name)
    {
        var node = Take(name);
        if (node is null) return null;
        if (node is JsonValue v)
        {
            if (v.TryGetValue<bool>(out var b)) return b;
            if (v.TryGetValue<double>(out var d) && d is 0 or 1) return d == 1;
            if (v.TryGetValue<string>(out var s))
            {
                switch (s.Trim().ToLowerInvariant())
                {
                    case "true" or "1" or "yes" or "on": return true;
                    case "false" or "0" or "no" or "off": return false;
                }
            }
        }
        Errors.Add(A1111ValidationError.Body(name, "value could not be parsed to a boolean", "type_error.bool"));
        return null;
    }

    public JsonObject? Object(string name)
    {
        var node = Take(name);
        if (node is null or JsonObject) return (JsonObject?)node;
        Errors.Add(A1111ValidationError.Body(name, "value is not a valid dict", "type_error.dict"));
        return null;
    }

    public JsonArray? Array(string name)
    {
        var node = Take(name);
        if (node is null or JsonArray) return (JsonArray?)node;
        Errors.Add(A1111ValidationError.Body(name, "value is not a valid list", "type_error.list"));
        return null;
    }

    /// <summary>pydantic's ge/le checks, with its messages and types.</summary>
    public bool InRange(string name, double? value, double min, double max)
    {
        if (value is not { } v) return true;
        if (v < min)
        {
            Errors.Add(A1111ValidationError.Body(name, $"ensure this value is greater than or equal to {Format(min)}", "value_error.number.not_ge") with { Ctx = new JsonObject { ["limit_value"] = min } });
            return false;
        }
        if (v > max)
        {
            Errors.Add(A1111ValidationError.Body(name, $"ensure this value is less than or equal to {Format(max)}", "value_error.number.not_le") with { Ctx = new JsonObject { ["limit_value"] = max } });
            return false;
        }
        return true;
    }

    private static string Format(double value) => value.ToString(CultureInfo.InvariantCulture);

    /// <summary>Stops reading after a byte limit (the Content-Length header may be absent).</summary>
    private sealed class LimitedStream(Stream inner, long limit) : Stream
    {
        private long _read;
        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => _read; set => throw new NotSupportedException(); }
        public override void Flush() { }
        public override int Read(byte[] buffer, int offset, int count) => Count(inner.Read(buffer, offset, count));
        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
            Count(await inner.ReadAsync(buffer, cancellationToken));
        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();
        private int Count(int n)
        {
            _read += n;
            if (_read > limit) throw new InvalidDataException($"The request body is larger than {limit} bytes.");
            return n;
        }
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
