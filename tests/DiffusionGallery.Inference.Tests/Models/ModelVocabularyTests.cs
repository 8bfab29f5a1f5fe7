using DiffusionGallery.Inference.Models;

namespace DiffusionGallery.Inference.Tests.Models;

/// <summary>The optional "vocabulary" of diffusion_gallery.json, read from a folder holding only the manifest.</summary>
public sealed class ModelVocabularyTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("dg-vocabulary-").FullName;

    private ModelVocabulary? Read(string manifest)
    {
        File.WriteAllText(Path.Combine(_folder, ModelManifest.FileName), manifest);
        return ModelInfo.Read(_folder).Descriptor.Vocabulary;
    }

    [Fact]
    public void ManifestWithoutVocabulary_HasNone() => Assert.Null(Read("""{ "display_name": "Test" }"""));

    [Fact]
    public void EmptyWordList_HasNone() => Assert.Null(Read("""{ "vocabulary": { "words": [" "], "colours": ["red"] } }"""));

    [Fact]
    public void Vocabulary_IsReadWithItsCategories()
    {
        var vocabulary = Read("""
            { "vocabulary": { "words": ["Circle", "red", "top", "left", "white", "red", "two", "above", "of"], "colours": ["red", "white"],
                              "kinds": ["circle"], "positions": ["top left"], "backgrounds": ["white"],
                              "counts": ["two"], "relations": ["above", "left of"] } }
            """);

        Assert.NotNull(vocabulary);
        Assert.Equal(["above", "circle", "left", "of", "red", "top", "two", "white"], vocabulary.Words);
        Assert.True(vocabulary.Knows("CIRCLE"));
        Assert.False(vocabulary.Knows("teal"));
        Assert.Equal(["red", "white"], vocabulary.Colours);
        Assert.Empty(vocabulary.Sizes);
        Assert.Equal(WordCategory.Position, vocabulary.CategoryOf("left"));
        Assert.Equal(WordCategory.Colour, vocabulary.CategoryOf("white"));
        Assert.Equal(WordCategory.Kind, vocabulary.CategoryOf("Circle"));
        Assert.Equal(WordCategory.Other, vocabulary.CategoryOf("ring"));
        Assert.Equal(["two"], vocabulary.Counts);
        Assert.Equal(["above", "left of"], vocabulary.EntriesOf(WordCategory.Relation));
        Assert.Equal(WordCategory.Count, vocabulary.CategoryOf("two"));
        Assert.Equal(WordCategory.Relation, vocabulary.CategoryOf("above"));
        Assert.Equal(WordCategory.Position, vocabulary.CategoryOf("left")); // "top left" before "left of"
    }

    public void Dispose() => Directory.Delete(_folder, recursive: true);
}
