using DiffusionGallery.Web.Data;
using DiffusionGallery.Web.Data.Entities;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace DiffusionGallery.Web.Sharing.Data;

public sealed class CollectionConfiguration : IEntityTypeConfiguration<Collection>
{
    public void Configure(EntityTypeBuilder<Collection> builder)
    {
        builder.ToTable("Collections");
        builder.HasKey(c => c.Id);
        builder.Property(c => c.OwnerId).HasMaxLength(450);
        builder.Property(c => c.Name).HasMaxLength(CollectionService.MaxNameLength);
        builder.Property(c => c.Description).HasMaxLength(CollectionService.MaxDescriptionLength);
        builder.Property(c => c.Visibility).HasConversion<string>().HasMaxLength(16);
        builder.Property(c => c.ShareToken).HasMaxLength(64);
        builder.HasOne<ApplicationUser>().WithMany().HasForeignKey(c => c.OwnerId).OnDelete(DeleteBehavior.Cascade);
        builder.HasOne<GeneratedImage>().WithMany().HasForeignKey(c => c.CoverImageId).OnDelete(DeleteBehavior.SetNull);
        builder.HasIndex(c => c.ShareToken).IsUnique();
        builder.HasIndex(c => new { c.OwnerId, c.CreatedAt });
    }
}

public sealed class CollectionImageConfiguration : IEntityTypeConfiguration<CollectionImage>
{
    public void Configure(EntityTypeBuilder<CollectionImage> builder)
    {
        builder.ToTable("CollectionImages");
        builder.HasKey(ci => new { ci.CollectionId, ci.ImageId });
        builder.HasOne<Collection>().WithMany(c => c.Images).HasForeignKey(ci => ci.CollectionId).OnDelete(DeleteBehavior.Cascade);
        builder.HasOne(ci => ci.Image).WithMany().HasForeignKey(ci => ci.ImageId).OnDelete(DeleteBehavior.Cascade);
        builder.HasIndex(ci => ci.ImageId);
    }
}
