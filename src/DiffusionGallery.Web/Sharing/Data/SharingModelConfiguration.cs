using DiffusionGallery.Web.Data;
using DiffusionGallery.Web.Data.Entities;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace DiffusionGallery.Web.Sharing.Data;

/// <summary>What sharing adds to users: a unique handle, a display name, a default visibility.</summary>
public sealed class UserSharingConfiguration : IEntityTypeConfiguration<ApplicationUser>
{
    public void Configure(EntityTypeBuilder<ApplicationUser> builder)
    {
        builder.Property(u => u.Handle).HasMaxLength(Handles.MaxLength);
        builder.Property(u => u.DisplayName).HasMaxLength(Handles.MaxDisplayNameLength);
        builder.Property(u => u.DefaultVisibility).HasConversion<string>().HasMaxLength(16).HasDefaultValue(ImageVisibility.Private).HasSentinel(ImageVisibility.Private);
        builder.HasIndex(u => u.Handle).IsUnique();
    }
}

/// <summary>What sharing adds to images: the per-image switches and the indexes Explore, profiles and lineage read by.</summary>
public sealed class ImageSharingConfiguration : IEntityTypeConfiguration<GeneratedImage>
{
    public void Configure(EntityTypeBuilder<GeneratedImage> builder)
    {
        builder.Property(i => i.AllowRemix).HasDefaultValue(true).HasSentinel(true);
        builder.Property(i => i.LikeCount).HasDefaultValue(0);
        builder.Property(i => i.RemixCount).HasDefaultValue(0);
        // Explore reads listed images (Visibility = Public AND TakenDownAt IS NULL, both equality prefixes) in the order
        // of each sort, ties broken by CreatedAt then Id: each first page is an index walk of 24 entries, and the total
        // an index-only count.
        builder.HasIndex(i => new { i.Visibility, i.TakenDownAt, i.CreatedAt, i.Id });
        builder.HasIndex(i => new { i.Visibility, i.TakenDownAt, i.LikeCount, i.CreatedAt, i.Id });
        builder.HasIndex(i => new { i.Visibility, i.TakenDownAt, i.RemixCount, i.CreatedAt, i.Id });
        builder.HasIndex(i => i.ParentImageId);
    }
}
