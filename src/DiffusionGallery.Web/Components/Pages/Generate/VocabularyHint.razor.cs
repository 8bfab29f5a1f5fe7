using DiffusionGallery.Inference.Models;
using DiffusionGallery.Inference.Prompting;
using Microsoft.AspNetCore.Components;

namespace DiffusionGallery.Web.Components.Pages.Generate;

/// <summary>
/// The generate page's honest hint: which words of the prompt and negative prompt the selected model does not know
/// (<see cref="VocabularyHints"/>), checked <see cref="Delay"/> after the last change so typing stays smooth.
/// </summary>
public sealed partial class VocabularyHint : IDisposable
{
    [Parameter] public string? Prompt { get; set; }

    [Parameter] public string? NegativePrompt { get; set; }

    /// <summary>The selected model's vocabulary; null (a model that lists none) shows nothing.</summary>
    [Parameter] public ModelVocabulary? Vocabulary { get; set; }

    [Parameter] public TimeSpan Delay { get; set; } = TimeSpan.FromMilliseconds(400);

    /// <summary>The clock of the delay (tests pass a fake one).</summary>
    [Parameter] public TimeProvider Time { get; set; } = TimeProvider.System;

    private VocabularyReport _report = VocabularyReport.None;

    /// <summary>A chip shows the word as the hint quotes it (a pasted run-on "word" must not widen the page); its title holds the whole word.</summary>
    private static string Shorten(string word) => VocabularyHints.Shorten(word);

    private static string? Title(UnknownWord word) =>
        word.InNegativePrompt ? (word.Word.Length > VocabularyHints.QuotedCharacters ? $"{word.Word} (in the negative prompt)" : "in the negative prompt")
        : word.Word.Length > VocabularyHints.QuotedCharacters ? word.Word : null;
    private (string? Prompt, string? Negative, ModelVocabulary? Vocabulary)? _requested;
    private CancellationTokenSource? _pending;

    protected override void OnParametersSet()
    {
        var input = (Prompt, NegativePrompt, Vocabulary);
        if (_requested == input)
            return;
        var first = _requested is null;
        _requested = input;
        _pending?.Cancel();
        _pending?.Dispose();
        _pending = null;
        if (first || Vocabulary is null)
        {
            // the first prompt (or a model without a vocabulary) is shown at once: nobody is typing yet
            _report = VocabularyHints.Check(Vocabulary, Prompt, NegativePrompt);
            return;
        }
        _pending = new CancellationTokenSource();
        _ = CheckAfterDelayAsync(input, _pending.Token);
    }

    private async Task CheckAfterDelayAsync((string? Prompt, string? Negative, ModelVocabulary? Vocabulary) input, CancellationToken ct)
    {
        try
        {
            await Task.Delay(Delay, Time, ct);
        }
        catch (OperationCanceledException)
        {
            return;
        }
        var report = VocabularyHints.Check(input.Vocabulary, input.Prompt, input.Negative);
        await InvokeAsync(() =>
        {
            if (ct.IsCancellationRequested)
                return;
            _report = report;
            StateHasChanged();
        });
    }

    public void Dispose()
    {
        _pending?.Cancel();
        _pending?.Dispose();
    }
}
