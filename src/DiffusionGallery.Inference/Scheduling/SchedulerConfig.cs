using System.Text.Json;
using System.Text.Json.Nodes;

namespace DiffusionGallery.Inference.Scheduling;

/// <summary>The parts of a diffusers <c>scheduler/scheduler_config.json</c> the samplers use.</summary>
public sealed record SchedulerConfig
{
    public int NumTrainTimesteps { get; init; } = 1000;
    public double BetaStart { get; init; } = 0.00085;
    public double BetaEnd { get; init; } = 0.012;
    /// <summary><c>linear</c>, <c>scaled_linear</c> or <c>squaredcos_cap_v2</c>.</summary>
    public string BetaSchedule { get; init; } = "scaled_linear";
    public double[]? TrainedBetas { get; init; }
    public int StepsOffset { get; init; } = 1;
    public bool SetAlphaToOne { get; init; }
    /// <summary><c>epsilon</c>, <c>v_prediction</c> or <c>sample</c>.</summary>
    public string PredictionType { get; init; } = "epsilon";
    /// <summary><c>leading</c>, <c>linspace</c>, <c>trailing</c>; null = each sampler's diffusers default.</summary>
    public string? TimestepSpacing { get; init; }
    public bool ClipSample { get; init; }
    public double ClipSampleRange { get; init; } = 1.0;
    /// <summary>The diffusers class that wrote the file (e.g. <c>LCMScheduler</c>).</summary>
    public string? ClassName { get; init; }
    /// <summary>LCM: the step count the model was distilled for.</summary>
    public int OriginalInferenceSteps { get; init; } = 50;
    /// <summary>LCM: boundary-condition timestep scaling.</summary>
    public double TimestepScaling { get; init; } = 10.0;

    /// <summary>Stable Diffusion 1.x defaults (also what a missing file means).</summary>
    public static SchedulerConfig StableDiffusion { get; } = new();

    public bool IsLcm => string.Equals(ClassName, "LCMScheduler", StringComparison.Ordinal);

    public static SchedulerConfig Parse(string json)
    {
        var node = JsonNode.Parse(json) as JsonObject
            ?? throw new JsonException("scheduler config is not a JSON object");
        var d = StableDiffusion;
        return new SchedulerConfig
        {
            NumTrainTimesteps = Read(node, "num_train_timesteps", d.NumTrainTimesteps),
            BetaStart = Read(node, "beta_start", d.BetaStart),
            BetaEnd = Read(node, "beta_end", d.BetaEnd),
            BetaSchedule = Read(node, "beta_schedule", d.BetaSchedule),
            TrainedBetas = node["trained_betas"] is JsonArray arr ? arr.Select(v => v!.GetValue<double>()).ToArray() : null,
            StepsOffset = Read(node, "steps_offset", 0),
            SetAlphaToOne = Read(node, "set_alpha_to_one", false),
            PredictionType = Read(node, "prediction_type", d.PredictionType),
            TimestepSpacing = node["timestep_spacing"] is JsonValue spacing ? spacing.GetValue<string>() : null,
            ClipSample = Read(node, "clip_sample", false),
            ClipSampleRange = Read(node, "clip_sample_range", 1.0),
            ClassName = node["_class_name"] is JsonValue cls ? cls.GetValue<string>() : null,
            OriginalInferenceSteps = Read(node, "original_inference_steps", d.OriginalInferenceSteps),
            TimestepScaling = Read(node, "timestep_scaling", d.TimestepScaling),
        };
    }

    private static T Read<T>(JsonObject node, string key, T fallback)
    {
        if (node[key] is not JsonValue value)
            return fallback;
        if (typeof(T) == typeof(double) && value.TryGetValue<double>(out var dbl))
            return (T)(object)dbl;
        if (typeof(T) == typeof(int) && value.TryGetValue<int>(out var i))
            return (T)(object)i;
        if (typeof(T) == typeof(int) && value.TryGetValue<double>(out var di))
            return (T)(object)(int)di;
        return value.TryGetValue<T>(out var typed) ? typed : fallback;
    }
}
