using DiffusionGallery.Web.Data.Entities;
using DiffusionGallery.Web.Options;
using DiffusionGallery.Web.Quotas;

namespace DiffusionGallery.Web.Tests.Quotas;

public sealed class EffectiveQuotaResolverTests
{
    private static QuotaOptions Defaults() => new()
    {
        ImagesPerDay = 50,
        GpuSecondsPerDay = 600,
        MaxQueuedJobs = 4,
        MaxSteps = 50,
        MaxPixels = 512 * 512,
        MaxBatch = 2,
        AllowedModels = ["tiny-shapes"],
        Weight = 1,
        Roles = new(StringComparer.OrdinalIgnoreCase)
        {
            ["Trusted"] = new QuotaLayer { ImagesPerDay = 500, GpuSecondsPerDay = 0, Weight = 2 },
            ["Artist"] = new QuotaLayer { ImagesPerDay = 200, MaxSteps = 150, AllowedModels = ["sd15"] },
        },
    };

    [Fact]
    public void Resolve_NoRoleLayerNoOverride_IsTheDefaults()
    {
        var quota = EffectiveQuotaResolver.Resolve(Defaults(), ["User"], null);
        Assert.Equal((50, 600.0, 4, 50, 512L * 512, 2, 1.0), (quota.ImagesPerDay, quota.GpuSecondsPerDay, quota.MaxQueuedJobs, quota.MaxSteps, quota.MaxPixels, quota.MaxBatch, quota.Weight));
        Assert.Equal(["tiny-shapes"], quota.AllowedModels);
        Assert.True(quota.AllowsModel("TINY-SHAPES"));
        Assert.False(quota.AllowsModel("sd15"));
    }

    [Fact]
    public void Resolve_RoleLayer_ReplacesOnlyWhatItSets_ZeroIsUnlimited()
    {
        var quota = EffectiveQuotaResolver.Resolve(Defaults(), ["User", "Trusted"], null);
        Assert.Equal(500, quota.ImagesPerDay);
        Assert.Null(quota.GpuSecondsPerDay); // 0 in the layer = unlimited
        Assert.Equal(50, quota.MaxSteps);    // not set by the layer: the default
        Assert.Equal(2, quota.Weight);
    }

    [Fact]
    public void Resolve_SeveralRoles_TakeTheMostGenerousOfEach()
    {
        var quota = EffectiveQuotaResolver.Resolve(Defaults(), ["Artist", "Trusted"], null);
        Assert.Equal(500, quota.ImagesPerDay);
        Assert.Equal(150, quota.MaxSteps);
        Assert.Null(quota.GpuSecondsPerDay);
        Assert.Equal(2, quota.Weight);
        Assert.Equal(["sd15"], quota.AllowedModels);
    }

    [Fact]
    public void Resolve_UserOverride_WinsOverRoleAndDefault_NullFieldsFallThrough()
    {
        var policy = new QuotaPolicy { UserId = "u", ImagesPerDay = 3, MaxBatch = 0, AllowedModels = [], Weight = 0.5 };
        var quota = EffectiveQuotaResolver.Resolve(Defaults(), ["Trusted"], policy);
        Assert.Equal(3, quota.ImagesPerDay);       // override beats the role's 500
        Assert.Null(quota.MaxBatch);               // 0 = unlimited
        Assert.Empty(quota.AllowedModels);         // [] = every model
        Assert.True(quota.AllowsModel("anything"));
        Assert.Equal(0.5, quota.Weight);
        Assert.Null(quota.GpuSecondsPerDay);       // from the role
        Assert.Equal(4, quota.MaxQueuedJobs);      // from the defaults
    }

    [Fact]
    public void Validate_OutOfRangeValues_NameEachField()
    {
        var errors = new QuotaLayer { ImagesPerDay = -1, GpuSecondsPerDay = double.NaN, Weight = 0, MaxPixels = -5, AllowedModels = [" "] }.Validate();
        Assert.Equal(["allowedModels", "gpuSecondsPerDay", "imagesPerDay", "maxPixels", "weight"], errors.Keys.Order().ToArray());
        Assert.Empty(new QuotaLayer { ImagesPerDay = 0, Weight = 2 }.Validate());
    }

    [Fact]
    public void Options_InvalidRoleLayer_FailsValidationAtStartUp()
    {
        var options = Defaults();
        options.Roles["Broken"] = new QuotaLayer { Weight = -1 };
        var results = new List<System.ComponentModel.DataAnnotations.ValidationResult>();
        Assert.False(System.ComponentModel.DataAnnotations.Validator.TryValidateObject(options, new(options), results, validateAllProperties: true));
        Assert.Contains(results, r => r.ErrorMessage!.Contains("Quotas:Roles:Broken") && r.ErrorMessage.Contains("Weight must be between"));
    }
}
