using Bunit;
using DiffusionGallery.Inference.Models;
using DiffusionGallery.Web.Components.Pages.Generate;
using DiffusionGallery.Web.Data.Entities;
using DiffusionGallery.Web.Tests.Support;
using Microsoft.AspNetCore.Components.Web;
using Microsoft.Extensions.Time.Testing;

namespace DiffusionGallery.Web.Tests.Components;

/// <summary>The generate page's honest hints: the words the bundled model does not know, marked a moment after typing stops.</summary>
public sealed class VocabularyHintTests : MudTestContext
{
    private static readonly TimeSpan Delay = TimeSpan.FromMilliseconds(400);
    private readonly FakeTimeProvider _time = new();

    private static ModelVocabulary Vocabulary =>
        BundledModel.Generator.Models.Single(m => m.Name == "tiny-shapes").Vocabulary ?? throw new InvalidOperationException("the bundled model lists no vocabulary");

    private IRenderedComponent<VocabularyHint> RenderHint(string prompt, string? negative = null, ModelVocabulary? vocabulary = null) =>
        Render<VocabularyHint>(p => p
            .Add(x => x.Prompt, prompt)
            .Add(x => x.NegativePrompt, negative)
            .Add(x => x.Vocabulary, vocabulary ?? Vocabulary)
            .Add(x => x.Delay, Delay)
            .Add(x => x.Time, _time));

    private static string[] MarkedWords(IRenderedComponent<VocabularyHint> hint) =>
        hint.FindAll("[data-testid=unknown-word]").Select(e => e.TextContent.Trim()).ToArray();

    [Fact]
    public void FirstPrompt_IsCheckedAtOnce_AndUnknownWordsAreMarked()
    {
        var hint = RenderHint("a teal circle", "blurry");

        Assert.Equal(["teal", "blurry"], MarkedWords(hint));
        var text = hint.Find("[data-testid=vocabulary-hint-text]").TextContent;
        Assert.StartsWith("'teal' is not known to this model; it knows these colours: red, orange, yellow", text);
        Assert.Contains("In the negative prompt, 'blurry' is not known to this model.", text);
    }

    [Fact]
    public void ARunOnWord_IsShortenedInItsChip_WithTheWholeWordInTheTitle_AndTheHintWraps()
    {
        var word = new string('q', 1100);
        var hint = RenderHint($"a red {word}");

        var chip = hint.Find("[data-testid=unknown-word]");
        Assert.Equal(new string('q', DiffusionGallery.Inference.Prompting.VocabularyHints.QuotedCharacters - 1) + "…", chip.TextContent.Trim());
        Assert.Equal(word, chip.GetAttribute("title"));
        Assert.Contains("dg-wrap-anywhere", hint.Find("[data-testid=vocabulary-hint-text]").ClassList);
        var css = File.ReadAllText(Path.Combine(RepoPaths.Root, "wwwroot", "app.css"));
        Assert.Contains(".dg-wrap-anywhere { overflow-wrap: anywhere; }", css);
    }

    [Fact]
    public void KnownPrompt_ShowsNothing() =>
        Assert.Empty(RenderHint("a large red circle in the top left on a sunset gradient").FindAll("[data-testid=vocabulary-hint]"));

    [Fact]
    public void ModelWithoutVocabulary_ShowsNothing() =>
        Assert.Empty(Render<VocabularyHint>(p => p.Add(x => x.Prompt, "a teal dog").Add(x => x.Vocabulary, null)).FindAll("[data-testid=vocabulary-hint]"));

    [Fact]
    public void Typing_IsCheckedOnlyOnceItPausesForTheDelay()
    {
        var hint = RenderHint("a red circle");
        Assert.Empty(MarkedWords(hint));

        hint.Render(p => p.Add(x => x.Prompt, "a teal"));
        _time.Advance(Delay - TimeSpan.FromMilliseconds(100));
        hint.Render(p => p.Add(x => x.Prompt, "a teal octagon"));
        _time.Advance(Delay - TimeSpan.FromMilliseconds(100));
        Thread.Sleep(300); // real time for a check that should not have been started to render
        Assert.Empty(MarkedWords(hint)); // 600 ms of typing, never a 400 ms pause: nothing checked yet

        _time.Advance(TimeSpan.FromMilliseconds(100));
        hint.WaitForAssertion(() => Assert.Equal(["teal", "octagon"], MarkedWords(hint)), TimeSpan.FromSeconds(10));

        hint.Render(p => p.Add(x => x.Prompt, "a red circle"));
        Assert.Equal(["teal", "octagon"], MarkedWords(hint)); // the old marks stay until the pause
        _time.Advance(Delay);
        hint.WaitForAssertion(() => Assert.Empty(MarkedWords(hint)), TimeSpan.FromSeconds(10));
    }

    [Fact]
    public void PromptForm_MarksUnknownWordsWhileTyping_AndStillSubmits()
    {
        GenerationSettings? submitted = null;
        var model = FakeImageGenerator.Model with { Vocabulary = Vocabulary };
        var form = Render<PromptForm>(p => p
            .Add(x => x.Settings, new GenerationSettings { Prompt = "a red circle" })
            .Add(x => x.Models, [model])
            .Add(x => x.OnGenerate, s => submitted = s));
        Assert.Empty(form.FindAll("[data-testid=unknown-word]"));

        PromptFormTests.Input(form, "prompt").Input("a teal circle");

        form.WaitForAssertion(() => Assert.Equal("teal", form.Find("[data-testid=unknown-word]").TextContent.Trim()), TimeSpan.FromSeconds(10));
        form.Find("textarea").KeyDown(new KeyboardEventArgs { Key = "Enter", CtrlKey = true });
        // the form hands the settings over asynchronously (the key handler awaits), so wait for it
        form.WaitForAssertion(() => Assert.Equal("a teal circle", submitted?.Prompt), TimeSpan.FromSeconds(10));
    }
}
