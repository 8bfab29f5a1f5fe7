using DiffusionGallery.Inference.Models;
using DiffusionGallery.Inference.Prompting;

namespace DiffusionGallery.Inference.Tests.Prompting;

/// <summary>Hints against a small hand-made vocabulary (the bundled one is checked in BundledVocabularyTests).</summary>
public sealed class VocabularyHintsTests
{
    private static readonly ModelVocabulary Vocabulary = new(
        "a an the on in at of and with red green blue gray circle square large small top left right centre background sunset gradient".Split(' '),
        new Dictionary<WordCategory, IReadOnlyList<string>>
        {
            [WordCategory.Colour] = ["red", "green", "blue", "gray"],
            [WordCategory.Kind] = ["circle", "square"],
            [WordCategory.Size] = ["small", "large"],
            [WordCategory.Position] = ["top left", "top right", "centre"],
            [WordCategory.Background] = ["red", "gray", "sunset gradient"],
        });

    [Fact]
    public void KnownWords_InAnyCaseAndSyntax_GiveNoHint()
    {
        var report = VocabularyHints.Check(Vocabulary, "A large RED circle in the top-left, on a (blue:1.3) background.", "[green], 2");

        Assert.False(report.HasUnknownWords);
        Assert.Null(report.Hint);
    }

    [Fact]
    public void UnknownColour_IsNamedWithTheColoursTheModelKnows()
    {
        var report = VocabularyHints.Check(Vocabulary, "a (teal:1.2) circle");

        var word = Assert.Single(report.UnknownWords);
        Assert.Equal(new UnknownWord("teal", WordCategory.Colour, null, false), word);
        Assert.Equal("'teal' is not known to this model; it knows these colours: red, green, blue, gray.", report.Hint);
    }

    [Fact]
    public void ARunOnWord_IsQuotedShortened_ButReportedWhole()
    {
        var word = new string('q', 1100);
        var report = VocabularyHints.Check(Vocabulary, $"a red {word} circle");

        Assert.Equal(word, Assert.Single(report.UnknownWords).Word);
        Assert.StartsWith($"'{new string('q', VocabularyHints.QuotedCharacters - 1)}…' is not known to this model", report.Hint);
        Assert.True(report.Hint!.Length < 200, report.Hint);
    }

    [Fact]
    public void UnknownWords_AreGroupedByCategory_InPromptOrder()
    {
        var report = VocabularyHints.Check(Vocabulary, "a pink and teal hexagon on a beach, pink");

        Assert.Equal(["pink", "teal", "hexagon", "beach"], report.UnknownWords.Select(u => u.Word));
        Assert.Equal(
            "'pink' and 'teal' are not known to this model; it knows these colours: red, green, blue, gray. " +
            "'hexagon' is not known to this model; it knows these shapes: circle, square. " +
            "'beach' is not known to this model; it knows these backgrounds: red, gray, sunset gradient.",
            report.Hint);
    }

    [Fact]
    public void PluralsAndSynonyms_NameTheWordTheModelKnows()
    {
        var report = VocabularyHints.Check(Vocabulary, "big grey circles");

        Assert.Equal(
            [new UnknownWord("big", WordCategory.Size, "large", false), new UnknownWord("grey", WordCategory.Colour, "gray", false),
             new UnknownWord("circles", WordCategory.Kind, "circle", false)],
            report.UnknownWords);
        Assert.Equal("'big' is not known to this model; it knows 'large'. 'grey' is not known to this model; it knows 'gray'. " +
                     "'circles' is not known to this model; it knows 'circle'.", report.Hint);
    }

    [Fact]
    public void WordsOfNoCategory_ListEverythingTheModelKnows()
    {
        var report = VocabularyHints.Check(Vocabulary, "a dog");

        Assert.Equal(WordCategory.Other, Assert.Single(report.UnknownWords).Category);
        Assert.Equal("'dog' is not known to this model; it knows only the colours, shapes, sizes, positions and backgrounds of its training captions.",
            report.Hint);
    }

    [Fact]
    public void StopWords_AreNeverReported_EvenWhenTheModelLacksThem()
    {
        var report = VocabularyHints.Check(Vocabulary, "it is a red circle, and this is its square for you");

        Assert.False(report.HasUnknownWords);
    }

    [Fact]
    public void NegativePrompt_IsCheckedSeparately()
    {
        var report = VocabularyHints.Check(Vocabulary, "a red circle", "blurry, (ugly:1.3), teal, blurry");

        Assert.All(report.UnknownWords, u => Assert.True(u.InNegativePrompt));
        Assert.Equal(["blurry", "ugly", "teal"], report.UnknownWords.Select(u => u.Word));
        Assert.Equal("In the negative prompt, 'blurry', 'ugly' and 'teal' are not known to this model.", report.Hint);
    }

    [Fact]
    public void ManyUnknownWords_AreCountedBeyondTheQuotedOnes()
    {
        var report = VocabularyHints.Check(Vocabulary, "pink teal cyan brown maroon navy olive lime");

        Assert.Equal(8, report.UnknownWords.Count);
        Assert.StartsWith("'pink', 'teal', 'cyan', 'brown', 'maroon', 'navy' and 2 more are not known to this model; it knows these colours:", report.Hint);
    }

    [Fact]
    public void NoVocabulary_GivesNoHints() => Assert.Same(VocabularyReport.None, VocabularyHints.Check(null, "a teal dog"));

    [Fact]
    public void VocabularyWithoutCategories_StillNamesTheUnknownWord()
    {
        var report = VocabularyHints.Check(new ModelVocabulary(["red", "circle"]), "a teal circle");

        Assert.Equal("'teal' is not known to this model.", report.Hint);
    }
}
