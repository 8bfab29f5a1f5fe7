namespace DiffusionGallery.Inference.Metadata;

/// <summary>What a PNG says about how it was made.</summary>
public sealed record ImageMetadata(
    A1111Parameters? Parameters,
    GenerationMetadata? Generation,
    IReadOnlyList<KeyValuePair<string, string>> TextChunks);

/// <summary>Writes and reads our two metadata chunks: A1111 <c>parameters</c> and the JSON <see cref="GenerationMetadata"/>.</summary>
public static class PngMetadata
{
    public const string ParametersKeyword = "parameters";

    public static byte[] Embed(byte[] png, string parametersText, GenerationMetadata metadata) =>
        PngTextChunks.Insert(png,
        [
            new(ParametersKeyword, parametersText),
            new(GenerationMetadata.ChunkKeyword, metadata.ToJson()),
        ]);

    /// <summary>Reads a PNG made by us, by A1111 or by any tool that writes a <c>parameters</c> chunk.</summary>
    /// <exception cref="InvalidDataException">The file is not a well-formed PNG.</exception>
    public static ImageMetadata Read(ReadOnlySpan<byte> png)
    {
        var chunks = PngTextChunks.Read(png);
        var parameters = chunks.FirstOrDefault(c => c.Key == ParametersKeyword).Value is { } text ? A1111Parameters.Parse(text) : null;
        GenerationMetadata? generation = null;
        if (chunks.FirstOrDefault(c => c.Key == GenerationMetadata.ChunkKeyword).Value is { } json)
        {
            try
            {
                generation = GenerationMetadata.FromJson(json);
            }
            catch (System.Text.Json.JsonException)
            {
                generation = null;
            }
        }

        return new ImageMetadata(parameters, generation, chunks);
    }
}
