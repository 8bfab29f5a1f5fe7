using System.Text.Json;
using System.Text.Json.Serialization;

namespace DiffusionGallery.Web.Errors;

/// <summary>
/// Enums as their names, as <see cref="JsonStringEnumConverter"/> reads and writes them, but a name that is not one of
/// the enum's fails with <see cref="UnknownEnumNameException"/>, so that <see cref="JsonBody"/> can answer
/// "Unknown sampler 'Bogus'. Valid names: …" instead of "wrong type".
/// </summary>
public sealed class EnumNamesJsonConverter : JsonConverterFactory
{
    private readonly JsonStringEnumConverter _names = new();

    public override bool CanConvert(Type typeToConvert) => typeToConvert.IsEnum;

    public override JsonConverter CreateConverter(Type typeToConvert, JsonSerializerOptions options) =>
        (JsonConverter)Activator.CreateInstance(typeof(Converter<>).MakeGenericType(typeToConvert), _names.CreateConverter(typeToConvert, options)!)!;

    private sealed class Converter<T>(JsonConverter inner) : JsonConverter<T> where T : struct, Enum
    {
        private readonly JsonConverter<T> _inner = (JsonConverter<T>)inner;

        public override T Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
        {
            var text = reader.TokenType == JsonTokenType.String ? reader.GetString() : null;
            try
            {
                return _inner.Read(ref reader, typeToConvert, options);
            }
            catch (JsonException) when (text is not null)
            {
                throw new UnknownEnumNameException(text, Enum.GetNames<T>());
            }
        }

        public override void Write(Utf8JsonWriter writer, T value, JsonSerializerOptions options) => _inner.Write(writer, value, options);

        public override T ReadAsPropertyName(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) =>
            _inner.ReadAsPropertyName(ref reader, typeToConvert, options);

        public override void WriteAsPropertyName(Utf8JsonWriter writer, T value, JsonSerializerOptions options) =>
            _inner.WriteAsPropertyName(writer, value, options);
    }
}

/// <summary>A JSON string that names no member of the enum; <see cref="JsonException.Path"/> says where it was.</summary>
public sealed class UnknownEnumNameException(string value, IReadOnlyList<string> validNames)
    : JsonException($"'{value}' is not one of: {string.Join(", ", validNames)}.")
{
    public string Value { get; } = value;
    public IReadOnlyList<string> ValidNames { get; } = validNames;
}
