using DiffusionGallery.Inference.Abstractions;
using DiffusionGallery.Web.Data.Entities;
using DiffusionGallery.Web.Sharing;
using DiffusionGallery.Web.Tests.Support;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging.Abstractions;

namespace DiffusionGallery.Web.Tests.Sharing;

/// <summary>
/// A four-level chain with branching, over a real SQLite database:
/// R (Alice) → M (Bob) → C1 (Alice) → D (Bob); M → C2 (Bob, hidden prompt); R → S (Alice, Private).
/// </summary>
public sealed class LineageTests : IAsyncLifetime
{
    private readonly TestDatabase _db = new();
    private ImageAccess _access = default!;
    private LineageService _lineage = default!;
    private string _alice = "", _bob = "";
    private GeneratedImage _r = default!, _m = default!, _c1 = default!, _c2 = default!, _d = default!, _s = default!;
    private Viewer Alice => new(_alice, false);
    private Viewer Bob => new(_bob, false);

    public async ValueTask InitializeAsync()
    {
        _access = new ImageAccess(_db, NullLogger<ImageAccess>.Instance);
        _lineage = new LineageService(_db);
        _alice = await _db.AddUserAsync("alice@x.test");
        _bob = await _db.AddUserAsync("bob@x.test");
        var t = DateTimeOffset.UtcNow.AddHours(-1);
        _r = await Add(_alice, "a red circle", null, 20, SamplerKind.EulerAncestral, 1, t);
        _m = await Add(_bob, "a red circle on blue", _r.Id, 30, SamplerKind.DpmPlusPlus2M, 1, t.AddMinutes(1));
        _s = await Add(_alice, "a private sibling", _r.Id, 20, SamplerKind.EulerAncestral, 1, t.AddMinutes(2), ImageVisibility.Private);
        _c1 = await Add(_alice, "a big red circle on blue", _m.Id, 30, SamplerKind.DpmPlusPlus2M, 2, t.AddMinutes(3));
        _c2 = await Add(_bob, "a hidden green thing", _m.Id, 30, SamplerKind.DpmPlusPlus2M, 1, t.AddMinutes(4), hidePrompt: true);
        _d = await Add(_bob, "a big red circle on blue sky", _c1.Id, 30, SamplerKind.DpmPlusPlus2M, 2, t.AddMinutes(5));
    }

    private Task<GeneratedImage> Add(string owner, string prompt, Guid? parent, int steps, SamplerKind sampler, long seed, DateTimeOffset at,
        ImageVisibility visibility = ImageVisibility.Public, bool hidePrompt = false) =>
        SharingSeed.AddImageAsync(_db, null, owner, prompt, visibility, hidePrompt, true, parent, steps, sampler, seed, at);

    private async Task<LineageDto> LineageAsync(GeneratedImage image, Viewer viewer) =>
        await _lineage.BuildAsync((await _access.ByIdAsync(image.Id, viewer, TestContext.Current.CancellationToken))!, TestContext.Current.CancellationToken);

    [Fact]
    public async Task FromTheLeaf_AncestorsRootFirst_EachLabelledWithWhatChanged()
    {
        var lineage = await LineageAsync(_d, Viewer.Anonymous);

        Assert.Equal([_r.Id, _m.Id, _c1.Id], lineage.Ancestors.Select(a => a.Id!.Value));
        Assert.Empty(lineage.Ancestors[0].Diff);
        Assert.Equal(["prompt + on blue", "sampler Euler a → DPM++ 2M", "steps 20 → 30"], lineage.Ancestors[1].Diff);
        Assert.Equal(["prompt + big", "seed 1 → 2"], lineage.Ancestors[2].Diff);
        Assert.Equal(["prompt + sky"], lineage.Self.Diff);
        Assert.Empty(lineage.Descendants);
        Assert.Equal(Handles.Normalize(lineage.Ancestors[1].Creator!.Handle), lineage.Ancestors[1].Creator!.Handle);
    }

    [Fact]
    public async Task FromTheRoot_TreeOfDescendants_WithBranching_HiddenPromptsStayHidden_PrivateLeftOut()
    {
        var lineage = await LineageAsync(_r, Bob);

        Assert.Empty(lineage.Ancestors);
        var m = Assert.Single(lineage.Descendants); // S is Alice's Private image: not in Bob's view
        Assert.Equal(_m.Id, m.Id);
        Assert.Equal([_c1.Id, _c2.Id], m.Children.Select(c => c.Id!.Value));
        Assert.Equal(_d.Id, Assert.Single(m.Children[0].Children).Id);
        var c2 = m.Children[1];
        Assert.Equal(["prompt + hidden green thing", "prompt − red circle on blue"], c2.Diff); // Bob owns C2 and sees its changes…
        var aliceView = await LineageAsync(_r, Alice);
        Assert.Contains(aliceView.Descendants, n => n.Id == _s.Id); // Alice sees her own Private remix, but not the prompt of Bob's C2.
        var hiddenForAlice = aliceView.Descendants.Single(n => n.Id == _m.Id).Children.Single(n => n.Id == _c2.Id);
        Assert.Null(hiddenForAlice.Prompt);
        Assert.True(hiddenForAlice.PromptHidden);
        Assert.Equal([LineageDiff.SettingsHidden], hiddenForAlice.Diff);
        var bobsOwn = (await LineageAsync(_c2, Bob)).Self;
        Assert.Equal("a hidden green thing", bobsOwn.Prompt);
    }

    [Fact]
    public async Task HidingTheMiddleNode_ChildrenSaySourceUnavailable_AndTheSubtreeLeavesOthersViews()
    {
        await using (var db = _db.CreateDbContext())
            await db.GeneratedImages.Where(i => i.Id == _m.Id).ExecuteUpdateAsync(u => u.SetProperty(i => i.Visibility, ImageVisibility.Private).SetProperty(i => i.ShareToken, (string?)null), TestContext.Current.CancellationToken);

        var fromLeaf = await LineageAsync(_d, Viewer.Anonymous);
        Assert.Equal(2, fromLeaf.Ancestors.Count);
        Assert.False(fromLeaf.Ancestors[0].Available);
        Assert.Null(fromLeaf.Ancestors[0].Id);
        Assert.Equal(_c1.Id, fromLeaf.Ancestors[1].Id);
        Assert.Empty(fromLeaf.Ancestors[1].Diff); // nothing is compared with a node the viewer may not see
        Assert.Empty((await LineageAsync(_r, Viewer.Anonymous)).Descendants);
        // Its owner still sees the whole tree.
        Assert.Equal([_r.Id, _m.Id, _c1.Id], (await LineageAsync(_d, Bob)).Ancestors.Select(a => a.Id!.Value));
    }

    [Fact]
    public async Task DeletingTheMiddleNode_ChildrenKeepTheirDataAndSaySourceUnavailable()
    {
        await using (var db = _db.CreateDbContext())
            await db.GeneratedImages.Where(i => i.Id == _m.Id).ExecuteDeleteAsync(TestContext.Current.CancellationToken);

        var fromLeaf = await LineageAsync(_d, Bob);
        Assert.Equal(2, fromLeaf.Ancestors.Count);
        Assert.False(fromLeaf.Ancestors[0].Available);
        Assert.Equal(_c1.Id, fromLeaf.Ancestors[1].Id);
        Assert.Equal(["prompt + sky"], fromLeaf.Self.Diff);
        var fromChild = await LineageAsync(_c1, Alice);
        Assert.False(Assert.Single(fromChild.Ancestors).Available);
        Assert.Equal(_d.Id, Assert.Single(fromChild.Descendants).Id);
        Assert.DoesNotContain((await LineageAsync(_r, Alice)).Descendants, n => n.Id != _s.Id);
    }

    [Fact]
    public void WordChanges_AreCaseInsensitiveMultisets()
    {
        var (added, removed) = LineageDiff.WordChanges("a red, red circle", "a Red circle, blue circle");
        Assert.Equal(["blue", "circle"], added);
        Assert.Equal(["red"], removed);
    }

    public ValueTask DisposeAsync()
    {
        _db.Dispose();
        return ValueTask.CompletedTask;
    }
}
