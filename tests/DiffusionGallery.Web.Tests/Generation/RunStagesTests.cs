using DiffusionGallery.Inference.Abstractions;
using DiffusionGallery.Web.Generation;

namespace DiffusionGallery.Web.Tests.Generation;

public sealed class RunStagesTests
{
    private static BatchItemOutcome Succeeded(params (string Stage, double Ms)[] stages) =>
        new(new GenerationResult([], "m", "h", "CPU", "1", stages.ToDictionary(s => s.Stage, s => TimeSpan.FromMilliseconds(s.Ms))), null);

    [Fact]
    public void Shared_stages_count_once_and_each_jobs_own_stages_add_up()
    {
        var outcomes = new[]
        {
            Succeeded(("unet", 40), ("text_encoder", 1), ("tensor_io", 2), ("vae_decode", 3), ("png_encode", 1.5), ("total", 99)),
            Succeeded(("unet", 40), ("text_encoder", 1), ("tensor_io", 2.5), ("vae_decode", 3), ("png_encode", 1.5)),
            new BatchItemOutcome(null, new InvalidOperationException("failed item: no timings")),
        };

        Assert.Equal("text_encoder 1.0, unet 40.0, tensor_io 2.5, vae_decode 6.0, png_encode 3.0", RunStages.Describe(outcomes));
    }

    [Fact]
    public void A_run_without_a_result_says_so() =>
        Assert.Equal("no results", RunStages.Describe([new BatchItemOutcome(null, new OperationCanceledException())]));
}
