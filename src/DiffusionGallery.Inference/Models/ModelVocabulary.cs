namespace DiffusionGallery.Inference.Models;

/// <summary>
/// The words a model was trained on (the <c>"vocabulary"</c> of <c>diffusion_gallery.json</c>): every word of its
/// captions, lower case, and its content words by <see cref="WordCategory"/> as words or short phrases ("top left").
/// </summary>
public sealed class ModelVocabulary
{
    // a word in several lists counts as the first ("white" is a colour before it is a background)
    private static readonly WordCategory[] CategoryOrder =
        [WordCategory.Kind, WordCategory.Colour, WordCategory.Size, WordCategory.Position, WordCategory.Background, WordCategory.Count, WordCategory.Relation];

    private readonly HashSet<string> _known;

    public ModelVocabulary(IEnumerable<string> words, IReadOnlyDictionary<WordCategory, IReadOnlyList<string>>? categories = null)
    {
        Words = Clean(words).Select(w => w.ToLowerInvariant()).Distinct().Order(StringComparer.Ordinal).ToList();
        _known = new HashSet<string>(Words, StringComparer.Ordinal);
        IReadOnlyList<string> Entries(WordCategory c) =>
            categories is not null && categories.TryGetValue(c, out var entries) ? Clean(entries).Distinct().ToList() : [];
        Colours = Entries(WordCategory.Colour);
        Kinds = Entries(WordCategory.Kind);
        Sizes = Entries(WordCategory.Size);
        Positions = Entries(WordCategory.Position);
        Backgrounds = Entries(WordCategory.Background);
        Counts = Entries(WordCategory.Count);
        Relations = Entries(WordCategory.Relation);
    }

    /// <summary>Every word of the training captions, lower case, sorted.</summary>
    public IReadOnlyList<string> Words { get; }
    public IReadOnlyList<string> Colours { get; }
    /// <summary>The kinds of object (for the bundled model: shapes).</summary>
    public IReadOnlyList<string> Kinds { get; }
    public IReadOnlyList<string> Sizes { get; }
    public IReadOnlyList<string> Positions { get; }
    public IReadOnlyList<string> Backgrounds { get; }
    /// <summary>How many objects a caption may ask for ("two", "a pair of").</summary>
    public IReadOnlyList<string> Counts { get; }
    /// <summary>How two objects may stand to each other ("above", "to the left of").</summary>
    public IReadOnlyList<string> Relations { get; }

    /// <summary>Whether the word (one word, any case) is in the training captions.</summary>
    public bool Knows(string word) => _known.Contains(word.ToLowerInvariant());

    public IReadOnlyList<string> EntriesOf(WordCategory category) => category switch
    {
        WordCategory.Colour => Colours,
        WordCategory.Kind => Kinds,
        WordCategory.Size => Sizes,
        WordCategory.Position => Positions,
        WordCategory.Background => Backgrounds,
        WordCategory.Count => Counts,
        WordCategory.Relation => Relations,
        _ => [],
    };

    /// <summary>The category whose entries use this word ("left" of "top left" is a position), else <see cref="WordCategory.Other"/>.</summary>
    public WordCategory CategoryOf(string word)
    {
        foreach (var category in CategoryOrder)
        {
            if (EntriesOf(category).Any(e => e.Split(' ', StringSplitOptions.RemoveEmptyEntries).Contains(word, StringComparer.OrdinalIgnoreCase)))
                return category;
        }
        return WordCategory.Other;
    }

    /// <summary>The vocabulary of a manifest, or null when it lists no words (such a model gives no hints).</summary>
    public static ModelVocabulary? From(ModelManifest.VocabularySection? section)
    {
        if (section?.Words is not { } words || !Clean(words).Any())
            return null;
        return new ModelVocabulary(words, new Dictionary<WordCategory, IReadOnlyList<string>>
        {
            [WordCategory.Colour] = section.Colours ?? [],
            [WordCategory.Kind] = section.Kinds ?? [],
            [WordCategory.Size] = section.Sizes ?? [],
            [WordCategory.Position] = section.Positions ?? [],
            [WordCategory.Background] = section.Backgrounds ?? [],
            [WordCategory.Count] = section.Counts ?? [],
            [WordCategory.Relation] = section.Relations ?? [],
        });
    }

    private static IEnumerable<string> Clean(IEnumerable<string?> entries) =>
        entries.Where(e => !string.IsNullOrWhiteSpace(e)).Select(e => e!.Trim());
}
