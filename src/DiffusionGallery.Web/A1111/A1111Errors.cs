using System.Text.Json;
using System.Text.Json.Serialization;
using System.Text.Json.Nodes;

namespace DiffusionGallery.Web.A1111;

public static class A1111Json
{
    public static readonly JsonSerializerOptions Options = new(JsonSerializerDefaults.General)
    {
        DefaultIgnoreCondition = JsonIgnoreCondition.Never,
    };
}

/// <summary>One entry of FastAPI's (pydantic v1) validation answer: <c>{"loc":["body","steps"],"msg":…,"type":…}</c>.</summary>
public sealed record A1111ValidationError(
    [property: JsonPropertyName("loc")] IReadOnlyList<object> Loc,
    [property: JsonPropertyName("msg")] string Msg,
    [property: JsonPropertyName("type")] string Type)
{
    [JsonPropertyName("ctx")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public JsonObject? Ctx { get; init; }

    public static A1111ValidationError Body(string field, string msg, string type = "value_error") => new(["body", field], msg, type);
}

/// <summary>Answers in the shapes A1111's clients expect.</summary>
public static class A1111Results
{
    /// <summary>422 <c>{"detail":[…]}</c>, as FastAPI answers a request that fails validation.</summary>
    public static IResult Unprocessable(IEnumerable<A1111ValidationError> errors) =>
        TypedResults.Json(new { detail = errors.ToList() }, A1111Json.Options, statusCode: StatusCodes.Status422UnprocessableEntity);

    public static IResult Unprocessable(A1111ValidationError error) => Unprocessable([error]);

    /// <summary>A JSON <c>null</c>, what A1111 answers for endpoints that return nothing (options, skip).</summary>
    public static IResult Null() => TypedResults.Text("null", "application/json");

    /// <summary>A1111's error body for everything else: <c>{"error","detail","body","errors"}</c>.</summary>
    public static IResult Error(int status, string error, string detail) =>
        TypedResults.Json(new { error, detail, body = "", errors = detail }, A1111Json.Options, statusCode: status);
}
