using System.Globalization;
using System.Text;
using DiffusionGallery.Web.Data;
using Microsoft.EntityFrameworkCore;

namespace DiffusionGallery.Web.Sharing;

/// <summary>
/// Explore's prompt search over the FTS5 index that the <c>ExploreSearch</c> migration creates and its triggers keep
/// (only Public, not taken down, prompt not hidden). The viewer's text becomes words — runs of letters, digits and
/// marks; everything else separates them, so FTS syntax (<c>" * - : ^ ( ) NEAR AND OR NOT</c>) is never syntax — and
/// each word is quoted. Every word must match (case- and accent-insensitive, whole words), the last one as a prefix,
/// so a search matches as it is typed.
/// </summary>
public static class ExploreSearchQuery
{
    /// <summary>More words than this are ignored (the text is already at most <see cref="ExploreService.MaxSearchLength"/> characters).</summary>
    public const int MaxWords = 16;

    /// <summary>The words of <paramref name="search"/> as the FTS index sees them (case is folded by the index).</summary>
    public static IReadOnlyList<string> Words(string? search)
    {
        var words = new List<string>();
        if (string.IsNullOrEmpty(search)) return words;
        var current = new StringBuilder();
        foreach (var rune in search.EnumerateRunes())
        {
            if (IsWordRune(rune))
            {
                current.Append(rune.ToString());
                continue;
            }
            Flush();
            if (words.Count == MaxWords) break;
        }
        Flush();
        return words;

        void Flush()
        {
            if (current.Length > 0 && words.Count < MaxWords) words.Add(current.ToString());
            current.Clear();
        }
    }

    /// <summary>An FTS5 MATCH expression for <paramref name="search"/>, or null when it has no words (nothing matches).</summary>
    public static string? MatchExpression(string? search)
    {
        var words = Words(search);
        if (words.Count == 0) return null;
        // A quoted string is always a phrase of literal tokens in FTS5; the words hold no quote, but doubling keeps that true.
        var quoted = words.Select(w => "\"" + w.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"").ToList();
        quoted[^1] += "*";
        return string.Join(" AND ", quoted);
    }

    /// <summary>Ids of searchable images whose prompt matches <paramref name="matchExpression"/> (composable into a query).</summary>
    public static IQueryable<Guid> MatchingImageIds(ApplicationDbContext db, string matchExpression) =>
        db.Database.SqlQuery<Guid>($"""
            SELECT d.ImageId AS Value FROM ExploreSearch JOIN ExploreSearchDocuments AS d ON d.DocumentId = ExploreSearch.rowid
            WHERE ExploreSearch MATCH {matchExpression}
            """);

    private static bool IsWordRune(Rune rune) => Rune.GetUnicodeCategory(rune) switch
    {
        UnicodeCategory.UppercaseLetter or UnicodeCategory.LowercaseLetter or UnicodeCategory.TitlecaseLetter or UnicodeCategory.ModifierLetter
            or UnicodeCategory.OtherLetter or UnicodeCategory.DecimalDigitNumber or UnicodeCategory.LetterNumber or UnicodeCategory.OtherNumber
            or UnicodeCategory.NonSpacingMark or UnicodeCategory.SpacingCombiningMark or UnicodeCategory.PrivateUse => true,
        _ => false,
    };
}
