using DiffusionGallery.Inference.Models;

namespace DiffusionGallery.Inference.Prompting;

/// <summary>A prompt word the model was not trained on; <see cref="KnownAlternative"/> is a word it knows that means the same.</summary>
public sealed record UnknownWord(string Word, WordCategory Category, string? KnownAlternative, bool InNegativePrompt);

/// <summary>The words of a prompt a model does not know, and one message that says so and what it knows instead.</summary>
public sealed record VocabularyReport(IReadOnlyList<UnknownWord> UnknownWords, string? Hint)
{
    public static readonly VocabularyReport None = new([], null);

    public bool HasUnknownWords => UnknownWords.Count > 0;
}

/// <summary>
/// Honest hints about a model's vocabulary: which words of a prompt (and negative prompt) it was never trained on.
/// Case, punctuation, A1111 emphasis, numbers and function words ("the", "of") are ignored; nothing is refused.
/// </summary>
public static class VocabularyHints
{
    /// <summary>At most this many words are quoted in one sentence of the hint; the rest are counted.</summary>
    public const int MaxQuotedWords = 6;

    private static readonly WordCategory[] HintOrder =
        [WordCategory.Colour, WordCategory.Kind, WordCategory.Count, WordCategory.Size, WordCategory.Position, WordCategory.Relation,
         WordCategory.Background, WordCategory.Other];

    /// <summary>Checks a prompt against a model's vocabulary; a model without one (null) gives <see cref="VocabularyReport.None"/>.</summary>
    public static VocabularyReport Check(ModelVocabulary? vocabulary, string? prompt, string? negativePrompt = null)
    {
        if (vocabulary is null)
            return VocabularyReport.None;
        var unknown = Unknown(vocabulary, prompt, inNegativePrompt: false).Concat(Unknown(vocabulary, negativePrompt, inNegativePrompt: true)).ToList();
        return unknown.Count == 0 ? VocabularyReport.None : new VocabularyReport(unknown, Hint(vocabulary, unknown));
    }

    private static IEnumerable<UnknownWord> Unknown(ModelVocabulary vocabulary, string? text, bool inNegativePrompt) =>
        PromptWords.Split(text)
            .Where(w => !vocabulary.Knows(w) && !CommonWords.StopWords.Contains(w))
            .Distinct()
            .Select(w => new UnknownWord(w, CategoryOf(w, vocabulary), CommonWords.KnownAlternative(w, vocabulary), inNegativePrompt));

    private static WordCategory CategoryOf(string word, ModelVocabulary vocabulary)
    {
        foreach (var w in CommonWords.WithSingulars(word))
        {
            if (vocabulary.CategoryOf(w) is not WordCategory.Other and var category)
                return category;
        }
        return CommonWords.CategoryOf(word);
    }

    private static string Hint(ModelVocabulary vocabulary, List<UnknownWord> unknown)
    {
        var sentences = new List<string>();
        var inPrompt = unknown.Where(u => !u.InNegativePrompt).ToList();
        foreach (var u in inPrompt.Where(u => u.KnownAlternative is not null))
            sentences.Add($"'{Shorten(u.Word)}' is not known to this model; it knows '{u.KnownAlternative}'.");
        foreach (var category in HintOrder)
        {
            var words = inPrompt.Where(u => u.KnownAlternative is null && u.Category == category).Select(u => u.Word).ToList();
            if (words.Count > 0)
                sentences.Add($"{NotKnown(words)}{WhatItKnows(vocabulary, category)}.");
        }
        var negative = unknown.Where(u => u.InNegativePrompt).Select(u => u.Word).ToList();
        if (negative.Count > 0)
            sentences.Add($"In the negative prompt, {NotKnown(negative)}.");
        return string.Join(' ', sentences);
    }

    private static string NotKnown(List<string> words) =>
        $"{QuotedList(words)} {(words.Count == 1 ? "is" : "are")} not known to this model";

    private static string WhatItKnows(ModelVocabulary vocabulary, WordCategory category)
    {
        if (category != WordCategory.Other)
        {
            var entries = vocabulary.EntriesOf(category);
            return entries.Count == 0 ? "" : $"; it knows these {Plural(category)}: {string.Join(", ", entries)}";
        }
        // short: the words of each kind are listed by their own sentences, the model card and GET /api/models
        var kinds = HintOrder.Where(c => c != WordCategory.Other && vocabulary.EntriesOf(c).Count > 0).Select(Plural).ToList();
        return kinds.Count == 0 ? "" : $"; it knows only the {AndList(kinds)} of its training captions";
    }

    private static string Plural(WordCategory category) => category switch
    {
        WordCategory.Colour => "colours",
        WordCategory.Kind => "shapes",
        WordCategory.Size => "sizes",
        WordCategory.Position => "positions",
        WordCategory.Background => "backgrounds",
        WordCategory.Count => "counts",
        WordCategory.Relation => "relations",
        _ => "words",
    };

    private static string QuotedList(List<string> words)
    {
        var quoted = words.Take(MaxQuotedWords).Select(w => $"'{Shorten(w)}'").ToList();
        if (words.Count > MaxQuotedWords)
            quoted.Add($"{words.Count - MaxQuotedWords} more");
        return AndList(quoted);
    }

    /// <summary>At most this many characters of a word are quoted in the hint (a pasted run-on "word" stays readable); the
    /// report's <see cref="VocabularyReport.UnknownWords"/> keep the whole word.</summary>
    public const int QuotedCharacters = 32;

    /// <summary>A word as the hint quotes it (and the generate page's chips show it): at most <see cref="QuotedCharacters"/>.</summary>
    public static string Shorten(string word)
    {
        ArgumentNullException.ThrowIfNull(word);
        return word.Length <= QuotedCharacters ? word : word[..(QuotedCharacters - 1)] + "…";
    }

    private static string AndList(List<string> items) =>
        items.Count == 1 ? items[0] : $"{string.Join(", ", items.Take(items.Count - 1))} and {items[^1]}";
}
