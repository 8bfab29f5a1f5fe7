using DiffusionGallery.Inference.Models;

namespace DiffusionGallery.Inference.Prompting;

/// <summary>
/// What the vocabulary hints know of English beyond a model's own words: function words never worth a hint,
/// the category of common words a model may lack ("teal" is a colour), and near synonyms ("grey" for "gray").
/// </summary>
internal static class CommonWords
{
    /// <summary>Articles, conjunctions, pronouns and the like: a caption grammar may use some, none names anything drawn.</summary>
    public static readonly IReadOnlySet<string> StopWords = new HashSet<string>(StringComparer.Ordinal)
    {
        "a", "an", "the", "and", "or", "but", "nor", "of", "in", "on", "at", "to", "from", "with", "by", "for", "as",
        "into", "onto", "is", "are", "was", "were", "be", "been", "it", "its", "it's", "this", "that", "these", "those",
        "there", "here", "some", "any", "very", "so", "too", "also", "just", "please", "i", "me", "my", "we", "our",
        "you", "your", "he", "she", "they", "them", "his", "her", "their", "has", "have", "having", "which", "who",
    };

    private static readonly Dictionary<string, WordCategory> Categories = Build(new()
    {
        [WordCategory.Colour] =
            "red orange yellow green blue purple violet pink brown black white gray grey cyan magenta teal turquoise " +
            "aqua azure navy indigo lavender lilac maroon crimson scarlet burgundy gold golden silver beige tan cream " +
            "ivory khaki olive lime mint emerald coral salmon peach amber charcoal light dark pale bright colorful " +
            "colourful multicolored multicoloured rainbow",
        [WordCategory.Kind] =
            "circle square triangle star heart ring hexagon pentagon octagon polygon diamond rhombus oval ellipse " +
            "rectangle cross plus crescent moon arrow line dot spot disc disk ball sphere cube box cone cylinder " +
            "pyramid donut doughnut torus blob shape object figure symbol",
        [WordCategory.Size] = "small large big little tiny huge giant enormous massive medium mini miniature",
        [WordCategory.Position] =
            "top bottom left right centre center middle corner side upper lower below beneath underneath beside " +
            "next between behind front edge leftmost rightmost",
        [WordCategory.Count] = "four five six seven eight nine ten eleven twelve dozen many several few couple multiple",
        [WordCategory.Background] =
            "background backdrop gradient sky sunset sunrise dawn dusk night space sea ocean beach water forest grass " +
            "field meadow desert mountain mountains city wall paper floor room landscape scene clouds cloudy snow " +
            "pattern stripes striped checkered texture wallpaper",
    });

    // each entry is a pair of words that mean the same to a person; the hint names the one the model knows
    private static readonly string[][] Synonyms =
    [
        ["grey", "gray"], ["violet", "purple"], ["center", "centre"], ["big", "large"], ["huge", "large"],
        ["giant", "large"], ["little", "small"], ["tiny", "small"], ["dot", "circle"], ["disc", "circle"],
        ["disk", "circle"], ["ball", "circle"], ["donut", "ring"], ["doughnut", "ring"], ["box", "square"],
        ["middle", "centre"], ["upper", "top"], ["lower", "bottom"],
    ];

    /// <summary>The category a person means by this word (or its singular), or <see cref="WordCategory.Other"/>.</summary>
    public static WordCategory CategoryOf(string word)
    {
        foreach (var w in WithSingulars(word))
        {
            if (Categories.TryGetValue(w, out var category))
                return category;
        }
        return WordCategory.Other;
    }

    /// <summary>A word the model knows that means what this one does: its singular ("circles"), a synonym ("grey").</summary>
    public static string? KnownAlternative(string word, ModelVocabulary vocabulary)
    {
        foreach (var w in WithSingulars(word))
        {
            if (w != word && vocabulary.Knows(w))
                return w;
            foreach (var pair in Synonyms)
            {
                var other = pair[0] == w ? pair[1] : pair[1] == w ? pair[0] : null;
                if (other is not null && vocabulary.Knows(other))
                    return other;
            }
        }
        return null;
    }

    /// <summary>The word, then what it would be if it were an English plural: "circles" → "circle", "boxes" → "box", "skies" → "sky".</summary>
    public static IEnumerable<string> WithSingulars(string word)
    {
        yield return word;
        if (word.Length < 3 || !word.EndsWith('s') || word.EndsWith("ss", StringComparison.Ordinal))
            yield break;
        yield return word[..^1];
        if (word.EndsWith("es", StringComparison.Ordinal))
            yield return word[..^2];
        if (word.EndsWith("ies", StringComparison.Ordinal))
            yield return word[..^3] + "y";
    }

    private static Dictionary<string, WordCategory> Build(Dictionary<WordCategory, string> lists)
    {
        var map = new Dictionary<string, WordCategory>(StringComparer.Ordinal);
        foreach (var (category, words) in lists)
        {
            foreach (var word in words.Split(' ', StringSplitOptions.RemoveEmptyEntries))
                map.TryAdd(word, category);
        }
        return map;
    }
}
