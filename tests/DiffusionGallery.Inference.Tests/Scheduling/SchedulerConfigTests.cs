using DiffusionGallery.Inference.Scheduling;

namespace DiffusionGallery.Inference.Tests.Scheduling;

public sealed class SchedulerConfigTests
{
    [Fact]
    public void Parse_ReadsDiffusersKeysAndDefaultsTheRest()
    {
        var config = SchedulerConfig.Parse("""
            {"_class_name":"PNDMScheduler","beta_start":0.001,"beta_end":0.02,"beta_schedule":"linear",
             "num_train_timesteps":500,"steps_offset":1,"set_alpha_to_one":true,"trained_betas":null}
            """);

        Assert.Equal((0.001, 0.02, "linear", 500, 1, true), (config.BetaStart, config.BetaEnd, config.BetaSchedule, config.NumTrainTimesteps, config.StepsOffset, config.SetAlphaToOne));
        Assert.Equal("epsilon", config.PredictionType);
        Assert.Null(config.TimestepSpacing);
        Assert.Null(config.TrainedBetas);
        Assert.False(config.IsLcm);
    }

    [Fact]
    public void Parse_DetectsLcmAndSpacingOverrides()
    {
        var config = SchedulerConfig.Parse("""{"_class_name":"LCMScheduler","timestep_spacing":"trailing","prediction_type":"v_prediction","original_inference_steps":40}""");

        Assert.True(config.IsLcm);
        Assert.Equal("trailing", config.TimestepSpacing);
        Assert.Equal("v_prediction", config.PredictionType);
        Assert.Equal(40, config.OriginalInferenceSteps);
        Assert.Equal(0, config.StepsOffset);
    }

    [Fact]
    public void LinearBetas_GiveTheExpectedCumulativeProduct()
    {
        var schedule = new NoiseSchedule(SchedulerConfig.Parse("""{"beta_schedule":"linear","beta_start":0.0001,"beta_end":0.02,"num_train_timesteps":1000}"""));

        Assert.Equal(1 - 0.0001, schedule.AlphasCumprod[0], 12);
        Assert.Equal((1 - 0.0001) * (1 - (0.0001 + 0.0199 / 999)), schedule.AlphasCumprod[1], 12);
    }

    [Fact]
    public void UnknownPredictionType_IsRejected()
    {
        var schedule = new NoiseSchedule(SchedulerConfig.StableDiffusion with { PredictionType = "flow" });

        Assert.Throws<ArgumentException>(() => SamplerFactory.Create(Abstractions.SamplerKind.Euler, schedule, 10));
    }
}
