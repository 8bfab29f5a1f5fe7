using Bunit;
using DiffusionGallery.Inference.Abstractions;
using DiffusionGallery.Web.Components.Pages.Generate;
using DiffusionGallery.Web.Data.Entities;
using DiffusionGallery.Web.Generation;
using DiffusionGallery.Web.Tests.Support;
using Microsoft.AspNetCore.Components.Web;

namespace DiffusionGallery.Web.Tests.Components;

public sealed class PromptFormTests : MudTestContext
{

    private IRenderedComponent<PromptForm> RenderForm(GenerationSettings settings, Action<GenerationSettings>? onGenerate = null, bool busy = false,
        IDictionary<string, string[]>? errors = null, Action<string>? onEdited = null) =>
        Render<PromptForm>(p => p
            .Add(x => x.Settings, settings)
            .Add(x => x.Models, [FakeImageGenerator.Model])
            .Add(x => x.Busy, busy)
            .Add(x => x.Errors, errors)
            .Add(x => x.OnEdited, f => onEdited?.Invoke(f))
            .Add(x => x.OnGenerate, s => onGenerate?.Invoke(s)));

    /// <summary>The input element a field's data-testid marks (MudBlazor puts the attribute on the input or its wrapper).</summary>
    internal static AngleSharp.Dom.IElement Input(IRenderedComponent<PromptForm> form, string testId)
    {
        var marked = form.Find($"[data-testid={testId}]");
        return marked.LocalName is "input" or "textarea" ? marked : marked.QuerySelector("input, textarea")!;
    }

    internal static string FieldText(IRenderedComponent<PromptForm> form, string testId) =>
        form.FindAll(".mud-input-control").Single(c => c.QuerySelector($"[data-testid={testId}]") is not null).TextContent;

    [Fact]
    public void SizeChips_TheSelectedOneIsFilledAndPressed_TheOthersOutlined()
    {
        var settings = new GenerationSettings { Prompt = "x", Width = 128, Height = 128 };
        var form = RenderForm(settings);

        void AssertSelected(string key)
        {
            foreach (var chip in form.FindAll("[data-testid^=size-]"))
            {
                var selected = chip.GetAttribute("data-testid") == $"size-{key}";
                Assert.Equal(selected ? "true" : "false", chip.GetAttribute("aria-pressed"));
                Assert.Equal(selected, chip.ClassList.Contains("mud-chip-selected")); // filled by .dg-size-chips in app.css
                Assert.Equal(selected, chip.QuerySelector("svg.mud-chip-icon") is not null); // and a check mark
                Assert.True(chip.ClassList.Contains("mud-chip-outlined"));
            }
        }

        AssertSelected("square");
        form.Find("[data-testid=size-landscape]").Click();
        Assert.Equal((128, 96), (settings.Width, settings.Height));
        AssertSelected("landscape");
        var css = File.ReadAllText(Path.Combine(RepoPaths.Root, "wwwroot", "app.css"));
        Assert.Contains(".dg-size-chips .mud-chip.mud-chip-selected", css);
    }

    [Fact]
    public void OutOfRangeInput_IsKeptAsTyped_NeverClampedOrCut_AndTheLimitsAreShown()
    {
        var settings = new GenerationSettings { Prompt = "x", Steps = 20 };
        var form = RenderForm(settings);

        Input(form, "steps").Change("9999");
        Assert.Equal(9999, settings.Steps);
        Input(form, "steps").Change("0");
        Assert.Equal(0, settings.Steps);
        Input(form, "cfg").Change("999");
        Assert.Equal(999f, settings.GuidanceScale);
        Input(form, "temperature").Change("50");
        Assert.Equal(50f, settings.Temperature);
        var pasted = new string('a', 10_000);
        var maxLength = form.Find("textarea").GetAttribute("maxlength");
        Assert.True(maxLength is null || int.Parse(maxLength) >= 10_000, $"the browser would cut the prompt at {maxLength}");
        form.Find("textarea").Input(pasted);
        Assert.Equal(10_000, settings.Prompt.Length);

        Assert.Contains("1–100", FieldText(form, "steps"));
        Assert.Contains("0–30", FieldText(form, "cfg"));
        Assert.Contains("0–2", FieldText(form, "temperature"));
        Assert.Contains("1–4", FieldText(form, "batch"));
    }

    [Fact]
    public void FieldErrors_ShownUnderTheirFields_AndEachGoesWhenItsFieldIsEdited()
    {
        var errors = new Dictionary<string, string[]> { ["steps"] = ["Steps must be between 1 and 100."], ["prompt"] = ["The prompt is empty."] };
        var edited = new List<string>();
        var settings = new GenerationSettings { Prompt = "", Steps = 9999 };
        var form = RenderForm(settings, errors: errors, onEdited: edited.Add);

        Assert.Contains("Steps must be between 1 and 100.", FieldText(form, "steps"));
        Assert.Contains("The prompt is empty.", form.Markup);

        Input(form, "steps").Change("50");
        Assert.DoesNotContain("Steps must be between", form.Markup);
        Assert.Contains("The prompt is empty.", form.Markup);
        Assert.Equal(["steps"], edited);

        form.Find("textarea").Input("a red circle");
        Assert.DoesNotContain("The prompt is empty.", form.Markup);
        Assert.Empty(errors);
        Assert.Equal(["steps", "prompt"], edited);
    }

    [Fact]
    public void TokenCount_ShownAndWarnsPast75()
    {
        var settings = new GenerationSettings { Prompt = "a red circle" };
        var form = RenderForm(settings);
        Assert.Contains("3/75 tokens", form.Find("[data-testid=token-count]").TextContent);

        settings.Prompt = string.Join(' ', Enumerable.Repeat("blue", 80));
        form.Render();
        var counter = form.Find("[data-testid=token-count]");
        Assert.Contains("80/75 tokens", counter.TextContent);
        Assert.Contains("ignored", counter.TextContent);
    }

    [Fact]
    public void CtrlEnter_InPrompt_RaisesGenerateWithConcreteRandomSeed()
    {
        GenerationSettings? submitted = null;
        var form = RenderForm(new GenerationSettings { Prompt = "a red circle", Seed = -1 }, s => submitted = s);

        form.Find("textarea").KeyDown(new KeyboardEventArgs { Key = "Enter", CtrlKey = true });

        form.WaitForAssertion(() => Assert.NotNull(submitted), TimeSpan.FromSeconds(10)); // handed over asynchronously
        Assert.NotNull(submitted);
        Assert.True(submitted.Seed >= 0);
        Assert.Equal("a red circle", submitted.Prompt);
        Assert.Equal(submitted.Seed, form.Instance.LastSeed);
    }

    [Fact]
    public void PlainEnter_DoesNotSubmit()
    {
        var submitted = false;
        var form = RenderForm(new GenerationSettings { Prompt = "x" }, _ => submitted = true);
        form.Find("textarea").KeyDown(new KeyboardEventArgs { Key = "Enter" });
        Assert.False(submitted);
    }

    [Fact]
    public void FixedSeed_IsSubmittedAsIs()
    {
        GenerationSettings? submitted = null;
        var form = RenderForm(new GenerationSettings { Prompt = "x", Seed = 1234 }, s => submitted = s);
        form.Find("[data-testid=generate]").Click();
        Assert.Equal(1234, submitted?.Seed);
    }

    [Fact]
    public void NotASeed_IsKeptAsTyped_RefusedUnderTheField_AndNotSubmitted()
    {
        GenerationSettings? submitted = null;
        var settings = new GenerationSettings { Prompt = "x", Seed = 1234 };
        var form = RenderForm(settings, s => submitted = s);

        foreach (var typed in new[] { "-5", "12.5", "abc", "9223372036854775808", (Seeds.Max + 1).ToString(System.Globalization.CultureInfo.InvariantCulture) })
        {
            Input(form, "seed").Input(typed);

            Assert.Equal(typed, Input(form, "seed").GetAttribute("value")); // not turned into 0 or clamped
            Assert.Contains(PromptForm.SeedRangeMessage, FieldText(form, "seed"));
            Assert.Equal(1234, settings.Seed); // (a negative seed in the settings would mean "random")
            form.Find("[data-testid=generate]").Click();
            Assert.Null(submitted);
        }

        Input(form, "seed").Input("42");
        Assert.DoesNotContain(PromptForm.SeedRangeMessage, FieldText(form, "seed"));
        form.Find("[data-testid=generate]").Click();
        Assert.Equal(42, submitted?.Seed);
    }

    [Fact]
    public void Busy_DisablesGenerate()
    {
        var submitted = false;
        var form = RenderForm(new GenerationSettings { Prompt = "x" }, _ => submitted = true, busy: true);
        Assert.True(form.Find("[data-testid=generate]").HasAttribute("disabled"));
        form.Find("textarea").KeyDown(new KeyboardEventArgs { Key = "Enter", CtrlKey = true });
        Assert.False(submitted);
    }

    [Fact]
    public void EmptyModel_DefaultsToFirstModel()
    {
        var settings = new GenerationSettings { Prompt = "x", Model = "" };
        RenderForm(settings);
        Assert.Equal("tiny-shapes", settings.Model);
    }

    private static AngleSharp.Dom.IElement KarrasInput(IRenderedComponent<PromptForm> form) => form.Find("input[type=checkbox][data-testid=karras]");

    [Fact]
    public void KarrasSwitch_ForDpmPlusPlus2M_IsEnabledAndBoundToTheSettings()
    {
        var settings = new GenerationSettings { Prompt = "x", Sampler = SamplerKind.DpmPlusPlus2M };
        var form = RenderForm(settings);

        var input = KarrasInput(form);
        Assert.False(input.HasAttribute("disabled"));
        Assert.False(input.HasAttribute("checked"));
        Assert.Contains("Karras sigmas", form.Markup);

        input.Change(true);

        Assert.True(settings.KarrasSigmas);
        Assert.True(KarrasInput(form).HasAttribute("checked"));
    }

    [Fact]
    public void KarrasSwitch_ForDdim_IsDisabledAndShownOff_KeepingTheChoiceForSigmaSamplers()
    {
        var settings = new GenerationSettings { Prompt = "x", Sampler = SamplerKind.Ddim, KarrasSigmas = true };
        var form = RenderForm(settings);

        var input = KarrasInput(form);
        Assert.True(input.HasAttribute("disabled"));
        Assert.False(input.HasAttribute("checked"));
        Assert.True(settings.KarrasSigmas);

        settings.Sampler = SamplerKind.Euler;
        form.Render();

        Assert.False(KarrasInput(form).HasAttribute("disabled"));
        Assert.True(KarrasInput(form).HasAttribute("checked"));
    }

    [Fact]
    public void KarrasSetting_IsSubmitted()
    {
        GenerationSettings? submitted = null;
        var form = RenderForm(new GenerationSettings { Prompt = "x", Seed = 5, Sampler = SamplerKind.Lms, KarrasSigmas = true }, s => submitted = s);
        form.Find("[data-testid=generate]").Click();
        Assert.True(submitted?.KarrasSigmas);
    }
}
