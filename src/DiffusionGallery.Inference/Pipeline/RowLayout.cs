namespace DiffusionGallery.Inference.Pipeline;

/// <summary>A run of consecutive UNet rows.</summary>
internal readonly record struct RowRange(int Start, int Count);

/// <summary>
/// Where each member of a shared run sits in the UNet call's rows. A member keeps its rows for as long as it stays, so
/// that when members join or leave only the joiners' per-layout rows (text embeddings) are written and uploaded, not
/// every row again: a member that leaves leaves a gap, and a joiner takes the first gap it fits (else the end). Rows in
/// a gap are still computed (every UNet operation works per row, so they touch no other row) and ignored. When the gaps
/// would make the call compute more rows than a packed layout (<c>rowsComputed</c>: a fixed-shape UNet computes its
/// power of two, so gaps within it are free; an ordinary call computes every row, so it keeps none) or would not fit the
/// tensors' capacity, the members are packed again in their given order.
/// </summary>
/// <typeparam name="T">A member, compared by reference.</typeparam>
/// <param name="rowsOf">A member's rows per call.</param>
/// <param name="rowsComputed">The rows a call over the first N rows computes.</param>
/// <param name="capacity">The most rows the call's tensors hold.</param>
internal sealed class RowLayout<T>(Func<T, int> rowsOf, Func<int, int> rowsComputed, int capacity) where T : class
{
    private readonly Dictionary<T, int> _offsets = new(ReferenceEqualityComparer.Instance);
    private readonly List<T> _placed = [];

    /// <summary>The rows a call covers: up to the end of the last member's (gaps included).</summary>
    public int Span { get; private set; }

    /// <summary>Rows that belong to a member.</summary>
    public int LiveRows { get; private set; }

    /// <summary>The first row of <paramref name="member"/> (laid out by the last <see cref="Update"/>).</summary>
    public int OffsetOf(T member) => _offsets[member];

    /// <summary>
    /// Lays out <paramref name="members"/> (the call's members from now on): those already laid out keep their rows,
    /// the others are placed. Returns the members placed by this update (all of them when the layout was packed
    /// again): the ones whose per-layout rows must be written.
    /// </summary>
    public IReadOnlyList<T> Update(IReadOnlyList<T> members)
    {
        _placed.Clear();
        var staying = new HashSet<T>(members, ReferenceEqualityComparer.Instance);
        foreach (var gone in _offsets.Keys.Where(m => !staying.Contains(m)).ToList())
            _offsets.Remove(gone);

        // the rows still taken, in order; the gaps between them (and the end) are free
        var taken = _offsets.Select(p => new RowRange(p.Value, rowsOf(p.Key))).OrderBy(r => r.Start).ToList();
        var gaps = new List<RowRange>();
        var end = 0;
        foreach (var range in taken)
        {
            if (range.Start > end)
                gaps.Add(new RowRange(end, range.Start - end));
            end = range.Start + range.Count;
        }

        var live = taken.Sum(r => r.Count);
        foreach (var member in members)
        {
            if (_offsets.ContainsKey(member))
                continue;
            var rows = rowsOf(member);
            var gap = gaps.FindIndex(g => g.Count >= rows);
            if (gap >= 0)
            {
                _offsets[member] = gaps[gap].Start;
                gaps[gap] = new RowRange(gaps[gap].Start + rows, gaps[gap].Count - rows);
            }
            else
            {
                _offsets[member] = end;
                end += rows;
            }

            live += rows;
            _placed.Add(member);
        }

        // trailing rows freed by members that left are not computed
        Span = members.Count == 0 ? 0 : members.Max(m => _offsets[m] + rowsOf(m));
        LiveRows = live;
        if (Span > capacity || rowsComputed(Span) > rowsComputed(live))
            Pack(members);
        return _placed;
    }

    private void Pack(IReadOnlyList<T> members)
    {
        _placed.Clear();
        var row = 0;
        foreach (var member in members)
        {
            _offsets[member] = row;
            row += rowsOf(member);
            _placed.Add(member);
        }

        Span = row;
    }
}
