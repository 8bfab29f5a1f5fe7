using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace DiffusionGallery.Web.Uploads;

public sealed class UploadedImageConfiguration : IEntityTypeConfiguration<UploadedImage>
{
    public void Configure(EntityTypeBuilder<UploadedImage> builder)
    {
        builder.ToTable("Uploads");
        builder.HasKey(u => u.Id);
        builder.Property(u => u.OwnerId).HasMaxLength(450);
        builder.Property(u => u.SourceFormat).HasMaxLength(8);
        builder.Property(u => u.FileHash).HasMaxLength(64);
        builder.HasOne(u => u.Owner).WithMany().HasForeignKey(u => u.OwnerId).OnDelete(DeleteBehavior.Cascade);
        builder.HasIndex(u => new { u.OwnerId, u.CreatedAt });
        builder.HasIndex(u => new { u.UsedAt, u.CreatedAt });
    }
}
