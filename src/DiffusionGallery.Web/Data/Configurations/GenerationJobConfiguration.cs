using DiffusionGallery.Web.Data.Entities;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace DiffusionGallery.Web.Data.Configurations;

public sealed class GenerationJobConfiguration : IEntityTypeConfiguration<GenerationJob>
{
    public void Configure(EntityTypeBuilder<GenerationJob> builder)
    {
        builder.HasKey(j => j.Id);
        builder.Property(j => j.State).HasConversion<string>().HasMaxLength(16);
        builder.Property(j => j.OwnerId).HasMaxLength(450);
        builder.Property(j => j.Error).HasMaxLength(2000);
        builder.ComplexProperty(j => j.Settings, SettingsMapping.MapSettings);
        builder.HasOne(j => j.Owner).WithMany().HasForeignKey(j => j.OwnerId).OnDelete(DeleteBehavior.Cascade);
        builder.HasIndex(j => new { j.State, j.CreatedAt });
        builder.HasIndex(j => new { j.OwnerId, j.CreatedAt });
    }
}
