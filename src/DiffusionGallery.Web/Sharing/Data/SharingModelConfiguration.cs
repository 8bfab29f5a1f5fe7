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
        // Explore: Public images, newest / most liked (period filters on CreatedAt); profiles: one owner's Public images.
        builder.HasIndex(i => new { i.Visibility, i.CreatedAt });
        builder.HasIndex(i => new { i.Visibility, i.LikeCount, i.CreatedAt });
        builder.HasIndex(i => i.ParentImageId);
    }
}
