using Bunit;
using DiffusionGallery.Inference.Abstractions;
using DiffusionGallery.Web.Components.Pages.Generate;
using DiffusionGallery.Web.Data.Entities;
using DiffusionGallery.Web.Tests.Support;
using Microsoft.AspNetCore.Components.Web;

namespace DiffusionGallery.Web.Tests.Components;

public sealed class PromptFormTests : MudTestContext
{

    private IRenderedComponent<PromptForm> RenderForm(GenerationSettings settings, Action<GenerationSettings>? onGenerate = null, bool busy = false) =>
        Render<PromptForm>(p => p
            .Add(x => x.Settings, settings)
            .Add(x => x.Models, [FakeImageGenerator.Model])
            .Add(x => x.Busy, busy)
            .Add(x => x.OnGenerate, s => onGenerate?.Invoke(s)));

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
