using DiffusionGallery.Web.Data.Entities;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace DiffusionGallery.Web.Data.Configurations;

public sealed class UsageEntryConfiguration : IEntityTypeConfiguration<UsageEntry>
{
    public void Configure(EntityTypeBuilder<UsageEntry> builder)
    {
        builder.HasKey(u => u.Id);
        builder.Property(u => u.UserId).HasMaxLength(450);
        builder.Property(u => u.ExecutionProvider).HasMaxLength(32);
        builder.Property(u => u.Kind).HasConversion<string>().HasMaxLength(16).HasDefaultValue(UsageKind.Charge).HasSentinel((UsageKind)(-1));
        // The ledger outlives the account row on purpose (no FK): it is an audit trail.
        builder.HasIndex(u => new { u.UserId, u.CreatedAt });
        builder.HasIndex(u => new { u.JobId, u.Kind });
    }
}
