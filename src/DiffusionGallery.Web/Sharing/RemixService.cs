using DiffusionGallery.Web.Data.Entities;

namespace DiffusionGallery.Web.Sharing;

/// <summary>What "Remix" prefills: the parent's settings the viewer may see. Never more than the parent's owner allows.</summary>
public static class RemixPrefill
{
    /// <summary>Throws <see cref="SharingException"/> 403 when the image does not allow remix.</summary>
    public static RemixPrefillDto From(ImageGrant grant)
    {
        ArgumentNullException.ThrowIfNull(grant);
        if (!grant.MayRemix) throw SharingException.Forbidden("The creator does not allow remixing this image.");
        var image = grant.Image;
        var s = image.Settings;
        var show = grant.ShowPrompt;
        // A hidden prompt hides every setting, not just the text: only the size stays (it is visible in the picture);
        // the rest start from the generate page's own defaults.
        var defaults = new GenerationSettings();
        return new RemixPrefillDto(image.Id, grant.VisibleById, !show,
            show ? s.Prompt : null, show ? s.NegativePrompt : null,
            show ? s.Model : defaults.Model, show ? s.Sampler : defaults.Sampler, show ? s.KarrasSigmas : defaults.KarrasSigmas,
            show ? s.Steps : defaults.Steps, show ? s.GuidanceScale : defaults.GuidanceScale, image.Width, image.Height,
            show ? image.Seed : -1, show ? s.Temperature : defaults.Temperature);
    }

    /// <summary>The generate form's settings for a remix; <paramref name="keepSeed"/> false (or a hidden seed) asks for a new random one (-1).</summary>
    public static GenerationSettings ToSettings(RemixPrefillDto prefill, bool keepSeed, GenerationSettings current)
    {
        ArgumentNullException.ThrowIfNull(prefill);
        ArgumentNullException.ThrowIfNull(current);
        var settings = current.Clone();
        if (!prefill.PromptHidden)
        {
            settings.Prompt = prefill.Prompt ?? "";
            settings.NegativePrompt = prefill.NegativePrompt ?? "";
            settings.Model = prefill.Model;
            settings.Sampler = prefill.Sampler;
            settings.KarrasSigmas = prefill.KarrasSigmas;
            settings.Steps = prefill.Steps;
            settings.GuidanceScale = prefill.GuidanceScale;
            settings.Temperature = prefill.Temperature;
        }
        settings.Width = prefill.Width;
        settings.Height = prefill.Height;
        settings.BatchCount = 1;
        settings.Seed = keepSeed && !prefill.PromptHidden ? prefill.Seed : -1;
        return settings;
    }
}
