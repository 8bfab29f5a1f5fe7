using DiffusionGallery.Web.Data.Entities;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace DiffusionGallery.Web.Data.Configurations;

public sealed class GeneratedImageConfiguration : IEntityTypeConfiguration<GeneratedImage>
{
    public void Configure(EntityTypeBuilder<GeneratedImage> builder)
    {
        builder.HasKey(i => i.Id);
        builder.Property(i => i.OwnerId).HasMaxLength(450);
        builder.Property(i => i.ModelName).HasMaxLength(200);
        builder.Property(i => i.ModelHash).HasMaxLength(128);
        builder.Property(i => i.ExecutionProvider).HasMaxLength(32);
        builder.Property(i => i.FileHash).HasMaxLength(64);
        builder.Property(i => i.ShareToken).HasMaxLength(64);
        builder.Property(i => i.Visibility).HasConversion<string>().HasMaxLength(16);
        builder.ComplexProperty(i => i.Settings, SettingsMapping.MapSettings);
        builder.HasOne(i => i.Owner).WithMany().HasForeignKey(i => i.OwnerId).OnDelete(DeleteBehavior.Cascade);
        builder.HasOne(i => i.Job).WithMany(j => j.Images).HasForeignKey(i => i.JobId).OnDelete(DeleteBehavior.SetNull);
        builder.HasOne<GeneratedImage>().WithMany().HasForeignKey(i => i.ParentImageId).OnDelete(DeleteBehavior.SetNull);
        builder.HasIndex(i => new { i.OwnerId, i.CreatedAt });
        builder.HasIndex(i => i.ShareToken).IsUnique();
    }
}
