using DiffusionGallery.Web.Data.Entities;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace DiffusionGallery.Web.Data.Configurations;

public static class GenerationJobLimits
{
    public const int ClientLength = 200;
    public const int OriginLength = 32;
}

public sealed class GenerationJobConfiguration : IEntityTypeConfiguration<GenerationJob>
{
    public void Configure(EntityTypeBuilder<GenerationJob> builder)
    {
        builder.HasKey(j => j.Id);
        builder.Property(j => j.State).HasConversion<string>().HasMaxLength(16);
        builder.Property(j => j.OwnerId).HasMaxLength(450);
        builder.Property(j => j.Error).HasMaxLength(2000);
        builder.Property(j => j.Origin).HasMaxLength(GenerationJobLimits.OriginLength).HasDefaultValue("web");
        builder.Property(j => j.Client).HasMaxLength(GenerationJobLimits.ClientLength);
        builder.ComplexProperty(j => j.Settings, SettingsMapping.MapSettings);
        builder.HasOne(j => j.Owner).WithMany().HasForeignKey(j => j.OwnerId).OnDelete(DeleteBehavior.Cascade);
        builder.HasIndex(j => new { j.State, j.CreatedAt });
        builder.HasIndex(j => new { j.OwnerId, j.CreatedAt });
    }
}
