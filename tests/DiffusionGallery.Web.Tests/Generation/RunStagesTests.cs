using DiffusionGallery.Inference.Abstractions;
using DiffusionGallery.Web.Generation;

namespace DiffusionGallery.Web.Tests.Generation;

public sealed class RunStagesTests
{
    private static GenerationResult Succeeded(params (string Stage, double Ms)[] stages) =>
        new([], "m", "h", "CPU", "1", stages.ToDictionary(s => s.Stage, s => TimeSpan.FromMilliseconds(s.Ms)));

    [Fact]
    public void Shared_stages_count_once_and_each_jobs_own_stages_add_up()
    {
        GenerationResult?[] results =
        [
            Succeeded(("unet", 40), ("text_encoder", 1), ("tensor_io", 2), ("vae_decode", 3), ("png_encode", 1.5), ("total", 99)),
            Succeeded(("unet", 40), ("text_encoder", 1), ("tensor_io", 2.5), ("vae_decode", 3), ("png_encode", 1.5)),
            null, // a failed item: no timings
        ];

        Assert.Equal("text_encoder 1.0, unet 40.0, tensor_io 2.5, vae_decode 6.0, png_encode 3.0", RunStages.Describe(results));
    }

    [Fact]
    public void The_loops_parts_are_shared_stages_reported_after_the_loop_in_its_order()
    {
        GenerationResult?[] results =
        [
            Succeeded(("loop", 120), ("join", 20), ("unet", 60), ("advance", 15), ("leave", 10), ("scheduler", 7)),
            Succeeded(("loop", 130), ("join", 25), ("unet", 61), ("advance", 16), ("leave", 12), ("scheduler", 8)),
        ];

        Assert.Equal("loop 130.0, join 25.0, unet 61.0, advance 16.0, leave 12.0, scheduler 15.0", RunStages.Describe(results));
    }

    [Fact]
    public void A_run_without_a_result_says_so() =>
        Assert.Equal("no results", RunStages.Describe([null]));
}
