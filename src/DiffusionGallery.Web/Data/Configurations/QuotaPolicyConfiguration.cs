using System.Text.Json;
using DiffusionGallery.Web.Data.Entities;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.ChangeTracking;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace DiffusionGallery.Web.Data.Configurations;

public sealed class QuotaPolicyConfiguration : IEntityTypeConfiguration<QuotaPolicy>
{
    public void Configure(EntityTypeBuilder<QuotaPolicy> builder)
    {
        builder.HasKey(q => q.UserId);
        builder.HasOne(q => q.User).WithOne().HasForeignKey<QuotaPolicy>(q => q.UserId).OnDelete(DeleteBehavior.Cascade);
        builder.Property(q => q.UpdatedBy).HasMaxLength(450);
        builder.Property(q => q.AllowedModels)
            .HasConversion(
                models => models == null ? null : JsonSerializer.Serialize(models, (JsonSerializerOptions?)null),
                json => json == null ? null : JsonSerializer.Deserialize<List<string>>(json, (JsonSerializerOptions?)null),
                new ValueComparer<List<string>?>(
                    (a, b) => a == null ? b == null : b != null && a.SequenceEqual(b),
                    models => models == null ? 0 : models.Aggregate(17, (hash, m) => hash * 31 + m.GetHashCode()),
                    models => models == null ? null : models.ToList()))
            .HasMaxLength(4000);
    }
}
