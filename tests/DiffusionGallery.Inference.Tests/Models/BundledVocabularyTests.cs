using System.Text.RegularExpressions;
using DiffusionGallery.Inference.Abstractions;
using DiffusionGallery.Inference.Models;
using DiffusionGallery.Inference.Prompting;
using DiffusionGallery.Inference.Tests.Support;

namespace DiffusionGallery.Inference.Tests.Models;

/// <summary>
/// The vocabulary of the committed models/tiny-shapes (written by tools/tiny-model/export.py --vocabulary-only from
/// the caption grammar) and the model card's list made from the same function.
/// </summary>
public sealed class BundledVocabularyTests
{
    private static readonly ModelDescriptor Model = ModelInfo.Read(TestPaths.RequireTinyModel()).Descriptor;

    private static ModelVocabulary Vocabulary =>
        Model.Vocabulary ?? throw new Xunit.Sdk.XunitException("models/tiny-shapes/diffusion_gallery.json has no \"vocabulary\"");

    [Fact]
    public void Manifest_ListsTheCaptionWordsByKind()
    {
        Assert.All(["circle", "red", "sunset", "gradient", "large", "left", "centre", "center", "pink", "grey", "hexagon", "circles", "two", "above"],
            w => Assert.True(Vocabulary.Knows(w), w));
        Assert.All(["teal", "octagon", "banana", "four", "between", "masterpiece"], w => Assert.False(Vocabulary.Knows(w), w));
        Assert.Equal(["circle", "square", "triangle", "star", "heart", "ring", "diamond", "hexagon", "cross", "crescent", "moon"], Vocabulary.Kinds);
        Assert.Equal(["red", "orange", "yellow", "green", "blue", "purple", "violet", "pink", "brown", "black", "white", "gray", "grey", "cyan"], Vocabulary.Colours);
        Assert.Equal(["small", "large"], Vocabulary.Sizes);
        Assert.Contains("bottom right", Vocabulary.Positions);
        Assert.Contains("sunset gradient", Vocabulary.Backgrounds);
        Assert.Contains("pink", Vocabulary.Backgrounds);
        Assert.Equal(["a", "one", "two", "a pair of", "three"], Vocabulary.Counts);
        Assert.Contains("to the left of", Vocabulary.Relations);
        Assert.Contains("next to", Vocabulary.Relations);
        var entryWords = new[] { Vocabulary.Colours, Vocabulary.Kinds, Vocabulary.Sizes, Vocabulary.Positions, Vocabulary.Backgrounds, Vocabulary.Counts, Vocabulary.Relations }
            .SelectMany(list => list).SelectMany(e => e.Split(' '));
        Assert.All(entryWords, w => Assert.True(Vocabulary.Knows(w), $"category word '{w}' is not in \"words\""));
    }

    [Fact]
    public void ExamplePrompts_UseOnlyKnownWords()
    {
        Assert.NotEmpty(Model.ExamplePrompts);
        Assert.All(Model.ExamplePrompts, p => Assert.Null(VocabularyHints.Check(Vocabulary, p).Hint));
    }

    [Fact]
    public void TypicalMisses_GetHonestHints()
    {
        var report = VocabularyHints.Check(Vocabulary, "four teal octagons between two pink hexagons, a banana, masterpiece");

        Assert.Equal(["four", "teal", "octagons", "between", "banana", "masterpiece"], report.UnknownWords.Select(u => u.Word));
        Assert.Contains("'teal' is not known to this model; it knows these colours: red, orange, yellow, green, blue, purple, violet, pink, brown, black, white, gray, grey, cyan.", report.Hint);
        Assert.Contains("'octagons' is not known to this model; it knows these shapes: circle, square, triangle, star, heart, ring, diamond, hexagon, cross, crescent, moon.", report.Hint);
        Assert.Contains("'four' is not known to this model; it knows these counts: a, one, two, a pair of, three.", report.Hint);
    }

    [Fact]
    public void ModelCard_ListsTheSameWords()
    {
        var card = File.ReadAllText(Path.Combine(TestPaths.RepositoryRoot, "docs", "model-card.md"));
        var section = Regex.Match(card, @"<!-- vocabulary:start[^>]*-->(.*?)<!-- vocabulary:end -->", RegexOptions.Singleline);
        Assert.True(section.Success, "docs/model-card.md has no generated vocabulary section");
        var text = section.Groups[1].Value;

        Assert.Contains($"| Colours | {string.Join(", ", Vocabulary.Colours)} |", text);
        Assert.Contains($"| Shapes | {string.Join(", ", Vocabulary.Kinds)} |", text);
        Assert.Contains($"| Backgrounds | {string.Join(", ", Vocabulary.Backgrounds)} |", text);
        Assert.Contains($"| Counts | {string.Join(", ", Vocabulary.Counts)} |", text);
        Assert.Contains($"| Relations | {string.Join(", ", Vocabulary.Relations)} |", text);
        Assert.Contains($"All {Vocabulary.Words.Count} words: {string.Join(' ', Vocabulary.Words)}", text);
    }
}
