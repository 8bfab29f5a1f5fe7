using System.Globalization;
using System.Text;
using DiffusionGallery.Web.Data;
using DiffusionGallery.Web.Data.Entities;
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

    /// <summary>
    /// Keeps the images whose prompt matches <paramref name="matchExpression"/>; compose filters, sort and paging after it.
    /// The ids compare with NOCASE (GUID text, so the same answer), which keeps SQLite from driving the query from the
    /// matches through the id index (a lookup per match, then a sort of all of them): it walks the sort's own index
    /// instead and probes the match set, built once, so a first page stops after a page of hits. Measured in
    /// docs/benchmarks.md ("Explore at 10,000 public images").
    /// </summary>
    public static IQueryable<GeneratedImage> Matching(this IQueryable<GeneratedImage> images, ApplicationDbContext db, string matchExpression)
    {
        var ids = db.Database.SqlQuery<Guid>($"""
            SELECT d.ImageId AS Value FROM ExploreSearch JOIN ExploreSearchDocuments AS d ON d.DocumentId = ExploreSearch.rowid
            WHERE ExploreSearch MATCH {matchExpression}
            """);
        return images.Where(i => ids.Contains(EF.Functions.Collate(i.Id, "NOCASE")));
    }

    /// <summary>How many images match: the index holds exactly the searchable images (Public, not taken down, prompt
    /// not hidden), so with no other filter this is Explore's total, counted without touching the images table.</summary>
    public static Task<int> CountAsync(ApplicationDbContext db, string matchExpression, CancellationToken cancellationToken) =>
        db.Database.SqlQuery<int>($"SELECT COUNT(*) AS Value FROM ExploreSearch WHERE ExploreSearch MATCH {matchExpression}")
            .SingleAsync(cancellationToken);

    private static bool IsWordRune(Rune rune) => Rune.GetUnicodeCategory(rune) switch
    {
        UnicodeCategory.UppercaseLetter or UnicodeCategory.LowercaseLetter or UnicodeCategory.TitlecaseLetter or UnicodeCategory.ModifierLetter
            or UnicodeCategory.OtherLetter or UnicodeCategory.DecimalDigitNumber or UnicodeCategory.LetterNumber or UnicodeCategory.OtherNumber
            or UnicodeCategory.NonSpacingMark or UnicodeCategory.SpacingCombiningMark or UnicodeCategory.PrivateUse => true,
        _ => false,
    };
}
