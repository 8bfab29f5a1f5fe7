using DiffusionGallery.Web.Data.Entities;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace DiffusionGallery.Web.Data.Configurations;

internal static class SettingsMapping
{
    public static void MapSettings<T>(ComplexPropertyBuilder<GenerationSettings> settings) where T : class
    {
        settings.Property(s => s.Prompt).HasColumnName("Prompt").HasMaxLength(4000);
        settings.Property(s => s.NegativePrompt).HasColumnName("NegativePrompt").HasMaxLength(4000);
        settings.Property(s => s.Model).HasColumnName("Model").HasMaxLength(200);
        settings.Property(s => s.Sampler).HasColumnName("Sampler").HasConversion<string>().HasMaxLength(32);
        settings.Property(s => s.Steps).HasColumnName("Steps");
        settings.Property(s => s.GuidanceScale).HasColumnName("GuidanceScale");
        settings.Property(s => s.Width).HasColumnName("Width");
        settings.Property(s => s.Height).HasColumnName("Height");
        settings.Property(s => s.Seed).HasColumnName("BaseSeed");
        settings.Property(s => s.BatchCount).HasColumnName("BatchCount");
        settings.Property(s => s.Temperature).HasColumnName("Temperature");
    }
}

public sealed class GenerationJobConfiguration : IEntityTypeConfiguration<GenerationJob>
{
    public void Configure(EntityTypeBuilder<GenerationJob> builder)
    {
        builder.HasKey(j => j.Id);
        builder.Property(j => j.State).HasConversion<string>().HasMaxLength(16);
        builder.Property(j => j.OwnerId).HasMaxLength(450);
        builder.Property(j => j.Error).HasMaxLength(2000);
        builder.ComplexProperty(j => j.Settings, SettingsMapping.MapSettings<GenerationJob>);
        builder.HasOne(j => j.Owner).WithMany().HasForeignKey(j => j.OwnerId).OnDelete(DeleteBehavior.Cascade);
        builder.HasIndex(j => new { j.State, j.CreatedAt });
        builder.HasIndex(j => new { j.OwnerId, j.CreatedAt });
    }
}

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
        builder.ComplexProperty(i => i.Settings, SettingsMapping.MapSettings<GeneratedImage>);
        builder.HasOne(i => i.Owner).WithMany().HasForeignKey(i => i.OwnerId).OnDelete(DeleteBehavior.Cascade);
        builder.HasOne(i => i.Job).WithMany(j => j.Images).HasForeignKey(i => i.JobId).OnDelete(DeleteBehavior.SetNull);
        builder.HasOne<GeneratedImage>().WithMany().HasForeignKey(i => i.ParentImageId).OnDelete(DeleteBehavior.SetNull);
        builder.HasIndex(i => new { i.OwnerId, i.CreatedAt });
        builder.HasIndex(i => i.ShareToken).IsUnique();
    }
}

public sealed class UsageEntryConfiguration : IEntityTypeConfiguration<UsageEntry>
{
    public void Configure(EntityTypeBuilder<UsageEntry> builder)
    {
        builder.HasKey(u => u.Id);
        builder.Property(u => u.UserId).HasMaxLength(450);
        builder.Property(u => u.ExecutionProvider).HasMaxLength(32);
        // The ledger outlives the account row on purpose (no FK): it is an audit trail.
        builder.HasIndex(u => new { u.UserId, u.CreatedAt });
    }
}

public sealed class PersonalAccessTokenConfiguration : IEntityTypeConfiguration<PersonalAccessToken>
{
    public void Configure(EntityTypeBuilder<PersonalAccessToken> builder)
    {
        builder.HasKey(t => t.Id);
        builder.Property(t => t.Name).HasMaxLength(100);
        builder.Property(t => t.TokenHash).HasMaxLength(64);
        builder.Property(t => t.Prefix).HasMaxLength(16);
        builder.HasIndex(t => t.TokenHash).IsUnique();
        builder.HasOne(t => t.User).WithMany().HasForeignKey(t => t.UserId).OnDelete(DeleteBehavior.Cascade);
    }
}

public sealed class UserPreferenceConfiguration : IEntityTypeConfiguration<UserPreference>
{
    public void Configure(EntityTypeBuilder<UserPreference> builder)
    {
        builder.HasKey(p => p.UserId);
        builder.Property(p => p.GenerateSettingsJson).HasMaxLength(16_000);
        builder.HasOne(p => p.User).WithOne().HasForeignKey<UserPreference>(p => p.UserId).OnDelete(DeleteBehavior.Cascade);
    }
}

public sealed class QuotaPolicyConfiguration : IEntityTypeConfiguration<QuotaPolicy>
{
    public void Configure(EntityTypeBuilder<QuotaPolicy> builder)
    {
        builder.HasKey(q => q.UserId);
        builder.HasOne(q => q.User).WithOne().HasForeignKey<QuotaPolicy>(q => q.UserId).OnDelete(DeleteBehavior.Cascade);
    }
}

public sealed class LikeConfiguration : IEntityTypeConfiguration<Like>
{
    public void Configure(EntityTypeBuilder<Like> builder)
    {
        builder.HasKey(l => new { l.UserId, l.ImageId });
        builder.HasOne<ApplicationUser>().WithMany().HasForeignKey(l => l.UserId).OnDelete(DeleteBehavior.Cascade);
        builder.HasOne<GeneratedImage>().WithMany().HasForeignKey(l => l.ImageId).OnDelete(DeleteBehavior.Cascade);
        builder.HasIndex(l => l.ImageId);
    }
}
