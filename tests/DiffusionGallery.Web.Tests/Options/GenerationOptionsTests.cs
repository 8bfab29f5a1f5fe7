using System.Text.Json;
using DiffusionGallery.Web.Options;
using DiffusionGallery.Web.Tests.Support;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace DiffusionGallery.Web.Tests.Options;

/// <summary>Every generation limit lives in <see cref="GenerationOptions"/>, agrees with appsettings.json, and is checked at start-up.</summary>
public sealed class GenerationOptionsTests
{
    private static GenerationOptions Validated(Action<GenerationOptions> change)
    {
        var services = new ServiceCollection();
        services.AddOptions<GenerationOptions>().Configure(change).ValidateDataAnnotations();
        services.AddSingleton<IValidateOptions<GenerationOptions>, GenerationOptionsValidator>();
        return services.BuildServiceProvider().GetRequiredService<IOptions<GenerationOptions>>().Value;
    }

    [Fact]
    public void Defaults_AreValid_AndEqualTheShippedAppsettings()
    {
        var defaults = Validated(_ => { });
        using var file = JsonDocument.Parse(File.ReadAllText(Path.Combine(RepoPaths.Root, "appsettings.json")));
        var section = file.RootElement.GetProperty("Generation");
        foreach (var property in typeof(GenerationOptions).GetProperties())
        {
            Assert.True(section.TryGetProperty(property.Name, out var value), $"appsettings.json lacks Generation:{property.Name}");
            if (property.PropertyType == typeof(bool))
                Assert.Equal((bool)property.GetValue(defaults)!, value.GetBoolean());
            else if (property.PropertyType == typeof(bool?)) // (null = automatic)
                Assert.Equal((bool?)property.GetValue(defaults), value.ValueKind == JsonValueKind.Null ? null : value.GetBoolean());
            else
                Assert.Equal(Convert.ToDouble(property.GetValue(defaults)), value.GetDouble());
        }
        Assert.Equal(100, defaults.MaxSteps);
    }

    [Theory]
    [InlineData("MaxSteps", 151)]          // above what the engine allows
    [InlineData("MaxGuidance", 31)]
    [InlineData("MaxTemperature", 2.5)]
    [InlineData("MinGuidance", 20)]        // with MaxGuidance 10 below
    [InlineData("MinPixelsSide", 100)]     // not a multiple of 8
    [InlineData("MaxQueuedJobsPerUser", 600)] // more than the whole queue
    [InlineData("RunsInFlight", 0)]        // the worker would never run anything
    [InlineData("RunsInFlight", 5)]
    [InlineData("MaxImagesPerRun", -1)]
    public void OutOfRangeOrInconsistent_FailsAtStartUp(string property, double value)
    {
        var ex = Assert.Throws<OptionsValidationException>(() => Validated(o =>
        {
            var p = typeof(GenerationOptions).GetProperty(property)!;
            p.SetValue(o, Convert.ChangeType(value, p.PropertyType, System.Globalization.CultureInfo.InvariantCulture));
            if (property == "MinGuidance") o.MaxGuidance = 10;
        }));
        Assert.Contains(property, ex.Message);
    }
}
