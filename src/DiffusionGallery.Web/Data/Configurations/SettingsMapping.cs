using DiffusionGallery.Web.Data.Entities;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace DiffusionGallery.Web.Data.Configurations;

internal static class SettingsMapping
{
    public static void MapSettings(ComplexPropertyBuilder<GenerationSettings> settings)
    {
        settings.Property(s => s.Prompt).HasColumnName("Prompt").HasMaxLength(4000);
        settings.Property(s => s.NegativePrompt).HasColumnName("NegativePrompt").HasMaxLength(4000);
        settings.Property(s => s.Model).HasColumnName("Model").HasMaxLength(200);
        settings.Property(s => s.Sampler).HasColumnName("Sampler").HasConversion<string>().HasMaxLength(32);
        settings.Property(s => s.KarrasSigmas).HasColumnName("KarrasSigmas");
        settings.Property(s => s.Steps).HasColumnName("Steps");
        settings.Property(s => s.GuidanceScale).HasColumnName("GuidanceScale");
        settings.Property(s => s.Width).HasColumnName("Width");
        settings.Property(s => s.Height).HasColumnName("Height");
        settings.Property(s => s.Seed).HasColumnName("BaseSeed");
        settings.Property(s => s.BatchCount).HasColumnName("BatchCount");
        settings.Property(s => s.Temperature).HasColumnName("Temperature");
        settings.Property(s => s.InitUploadId).HasColumnName("InitUploadId");
        settings.Property(s => s.InitImageId).HasColumnName("InitImageId");
        settings.Property(s => s.Strength).HasColumnName("Strength");
        settings.Property(s => s.Fit).HasColumnName("Fit").HasConversion<string>().HasMaxLength(16);
    }
}
