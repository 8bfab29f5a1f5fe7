using System.CommandLine;
using DiffusionGallery.Inference.Abstractions;
using DiffusionGallery.Inference.Scheduling;

namespace DiffusionGallery.Cli.Commands;

/// <summary>The generation settings as command-line options.</summary>
internal sealed class RequestOptions
{
    public Option<string> Prompt { get; } = new("--prompt", "-p") { Description = "Prompt; A1111 emphasis (word:1.3), (word), [word] is supported.", DefaultValueFactory = _ => "a red circle on a blue background" };
    public Option<string> Negative { get; } = new("--negative", "-n") { Description = "Negative prompt.", DefaultValueFactory = _ => "" };
    public Option<string?> Sampler { get; } = new("--sampler") { Description = $"Sampler: {string.Join(", ", SamplerNames.All)} (default: the model's recommended sampler, with Karras sigmas if it recommends them)." };
    public Option<bool> Karras { get; } = new("--karras") { Description = "Karras sigmas (Euler, Euler a, LMS, DPM++ 2M)." };
    public Option<int> Steps { get; } = new("--steps") { Description = "Sampling steps (1-150).", DefaultValueFactory = _ => 25 };
    public Option<float> Guidance { get; } = new("--cfg") { Description = "Classifier-free guidance scale (0-30; ≤ 1 disables CFG).", DefaultValueFactory = _ => 7f };
    public Option<float> Rescale { get; } = new("--guidance-rescale") { Description = "Guidance rescale φ (0-1).", DefaultValueFactory = _ => 0f };
    public Option<int> Width { get; } = new("--width", "-W") { Description = "Width (multiple of 8).", DefaultValueFactory = _ => 128 };
    public Option<int> Height { get; } = new("--height", "-H") { Description = "Height (multiple of 8).", DefaultValueFactory = _ => 128 };
    public Option<long> Seed { get; } = new("--seed", "-s") { Description = "64-bit seed; batch item i uses seed + i.", DefaultValueFactory = _ => 0L };
    public Option<int> Batch { get; } = new("--batch", "-b") { Description = "Images per run.", DefaultValueFactory = _ => 1 };
    public Option<float> Eta { get; } = new("--eta") { Description = "DDIM eta (0-1).", DefaultValueFactory = _ => 0f };
    public Option<float> Temperature { get; } = new("--temperature") { Description = "Scale of the fresh noise of stochastic samplers.", DefaultValueFactory = _ => 1f };
    public Option<FileInfo> InitImage { get; } = new("--init-image") { Description = "PNG/JPEG/WebP for img2img." };
    public Option<float> Strength { get; } = new("--strength") { Description = "img2img denoising strength (0-1).", DefaultValueFactory = _ => 0.75f };
    public Option<int> PreviewEvery { get; } = new("--preview-every") { Description = "Write a cheap latent preview PNG every N steps into --out (0 = off).", DefaultValueFactory = _ => 0 };

    public void AddTo(Command command)
    {
        foreach (var option in new Option[] { Prompt, Negative, Sampler, Karras, Steps, Guidance, Rescale, Width, Height, Seed, Batch, Eta, Temperature, InitImage, Strength, PreviewEvery })
            command.Add(option);
    }

    /// <param name="recommended">The model's recommendations, used when no sampler is named.</param>
    public GenerationRequest Build(ParseResult parse, string? model, ModelDescriptor? recommended)
    {
        var (sampler, karras) = ChooseSampler(parse.GetValue(Sampler), parse.GetValue(Karras), recommended);
        var init = parse.GetValue(InitImage);
        return new GenerationRequest
        {
            Prompt = parse.GetValue(Prompt)!,
            NegativePrompt = parse.GetValue(Negative)!,
            Model = model,
            Sampler = sampler,
            KarrasSigmas = karras,
            Steps = parse.GetValue(Steps),
            GuidanceScale = parse.GetValue(Guidance),
            GuidanceRescale = parse.GetValue(Rescale),
            Width = parse.GetValue(Width),
            Height = parse.GetValue(Height),
            Seed = parse.GetValue(Seed),
            BatchSize = parse.GetValue(Batch),
            Eta = parse.GetValue(Eta),
            Temperature = parse.GetValue(Temperature),
            InitImage = init is null ? null : File.ReadAllBytes(init.FullName),
            Strength = parse.GetValue(Strength),
            PreviewInterval = parse.GetValue(PreviewEvery),
        };
    }

    private static (SamplerKind Sampler, bool Karras) ChooseSampler(string? name, bool karras, ModelDescriptor? recommended)
    {
        if (name is null)
            return (recommended?.RecommendedSampler ?? SamplerKind.DpmPlusPlus2M, karras || recommended?.RecommendedKarras == true);
        if (!SamplerNames.TryParse(name, out var sampler))
            throw new InvalidGenerationRequestException($"Unknown sampler '{name}'. Known: {string.Join(", ", SamplerNames.All)}.");
        return (sampler, karras);
    }
}
