using DiffusionGallery.Inference.Pipeline;

namespace DiffusionGallery.Inference.Tests.Pipeline;

/// <summary>
/// Where a shared run's members sit in the UNet rows: members keep their rows while they stay, joiners fill the gaps of
/// those who left, and only the rows placed anew are reported for writing — unless gaps would cost computed rows.
/// </summary>
public sealed class RowLayoutTests
{
    private sealed record Member(string Name, int Rows);

    private static readonly Func<int, int> PowerOfTwo = rows => rows == 0 ? 0 : (int)System.Numerics.BitOperations.RoundUpToPowerOf2((uint)rows);

    private static RowLayout<Member> FixedShapes(int capacity = 64) => new(m => m.Rows, PowerOfTwo, capacity);

    private static string Rows(RowLayout<Member> layout, IEnumerable<Member> members) =>
        string.Join(" ", members.Select(m => $"{m.Name}@{layout.OffsetOf(m)}"));

    [Fact]
    public void FirstLayout_PacksInOrder_AndPlacesEveryone()
    {
        var (a, b, c) = (new Member("a", 2), new Member("b", 4), new Member("c", 2));
        var layout = FixedShapes();

        var placed = layout.Update([a, b, c]);

        Assert.Equal([a, b, c], placed);
        Assert.Equal("a@0 b@2 c@6", Rows(layout, [a, b, c]));
        Assert.Equal((8, 8), (layout.Span, layout.LiveRows));
    }

    [Fact]
    public void MembersWhoStay_KeepTheirRows_AndAJoinerFillsTheGapOfOneWhoLeft()
    {
        var (a, b, c, d) = (new Member("a", 2), new Member("b", 2), new Member("c", 2), new Member("d", 2));
        var layout = FixedShapes();
        layout.Update([a, b, c]);

        var placed = layout.Update([b, c, d]); // a left at the front, d joined

        Assert.Equal([d], placed); // only d's rows are written
        Assert.Equal("b@2 c@4 d@0", Rows(layout, [b, c, d]));
        Assert.Equal(6, layout.Span);
    }

    [Fact]
    public void AGapWithinTheSameFixedShape_IsKept_AndNothingIsWritten()
    {
        var (a, b, c, d) = (new Member("a", 2), new Member("b", 1), new Member("c", 2), new Member("d", 2));
        var layout = FixedShapes();
        layout.Update([a, b, c, d]); // 7 rows: the 8-row shape

        var placed = layout.Update([b, c, d]); // a left a gap at rows 0–1: 5 live rows are the 8-row shape too

        Assert.Empty(placed);
        Assert.Equal("b@2 c@3 d@5", Rows(layout, [b, c, d]));
        Assert.Equal((7, 5), (layout.Span, layout.LiveRows));
    }

    [Fact]
    public void AGapThatWouldCostABiggerFixedShape_IsPackedAway()
    {
        var (a, b, c) = (new Member("a", 2), new Member("b", 2), new Member("c", 2));
        var layout = FixedShapes();
        layout.Update([a, b, c]); // 6 rows: the 8-row shape

        var placed = layout.Update([b, c]); // a left: 4 live rows would compute 8 with the gap, 4 packed

        Assert.Equal([b, c], placed);
        Assert.Equal("b@0 c@2", Rows(layout, [b, c]));
        Assert.Equal(4, layout.Span);
    }

    [Fact]
    public void TrailingRowsOfThoseWhoLeft_AreNotComputed_AndJoinersAppendAfterTheLastMember()
    {
        var (a, b, c) = (new Member("a", 2), new Member("b", 2), new Member("c", 2));
        var layout = FixedShapes();
        layout.Update([a, b, c]);

        Assert.Empty(layout.Update([a, b])); // c left at the end
        Assert.Equal(4, layout.Span);

        var d = new Member("d", 4);
        Assert.Equal([d], layout.Update([a, b, d]));
        Assert.Equal("a@0 b@2 d@4", Rows(layout, [a, b, d]));
    }

    [Fact]
    public void AJoinerTooBigForAGap_GoesToTheEnd_AndASmallerOneFillsTheGap()
    {
        var (a, b, c, d) = (new Member("a", 2), new Member("b", 2), new Member("c", 2), new Member("d", 2));
        var layout = FixedShapes();
        layout.Update([a, b, c, d]); // 8 rows

        var (big, small) = (new Member("big", 4), new Member("small", 1));
        var placed = layout.Update([a, c, d, big, small]); // b left rows 2–3; big (4) does not fit them, small does

        Assert.Equal([big, small], placed);
        Assert.Equal("a@0 c@4 d@6 big@8 small@2", Rows(layout, [a, c, d, big, small]));
        Assert.Equal((12, 11), (layout.Span, layout.LiveRows)); // 16 computed either way
    }

    [Fact]
    public void AnOrdinaryCall_ComputesEveryRow_SoAnyGapLeftIsPackedAway()
    {
        var (a, b, c) = (new Member("a", 2), new Member("b", 2), new Member("c", 2));
        var layout = new RowLayout<Member>(m => m.Rows, rows => rows, capacity: 64);
        layout.Update([a, b, c]);

        var placed = layout.Update([b, c]); // a left a gap at the front

        Assert.Equal([b, c], placed);
        Assert.Equal("b@0 c@2", Rows(layout, [b, c]));

        var d = new Member("d", 2);
        Assert.Equal([d], layout.Update([b, c, d])); // appended: nothing else written
        var e = new Member("e", 2);
        Assert.Equal([e], layout.Update([b, d, e])); // e fills c's gap at once: no gap left, no packing
        Assert.Equal("b@0 d@4 e@2", Rows(layout, [b, d, e]));
    }

    [Fact]
    public void GapsThatWouldOverflowTheCapacity_ArePackedAway()
    {
        var (a, b, c) = (new Member("a", 2), new Member("b", 2), new Member("c", 2));
        var layout = FixedShapes(capacity: 8);
        layout.Update([a, b, c]);

        var big = new Member("big", 4);
        var placed = layout.Update([b, c, big]); // a's 2 rows do not fit big: at the end it would need rows 6–9

        Assert.Equal([b, c, big], placed);
        Assert.Equal("b@0 c@2 big@4", Rows(layout, [b, c, big]));
        Assert.Equal(8, layout.Span);
    }
}
