using DiffusionGallery.Web.Data.Entities;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace DiffusionGallery.Web.Data.Configurations;

public sealed class QuotaPolicyConfiguration : IEntityTypeConfiguration<QuotaPolicy>
{
    public void Configure(EntityTypeBuilder<QuotaPolicy> builder)
    {
        builder.HasKey(q => q.UserId);
        builder.HasOne(q => q.User).WithOne().HasForeignKey<QuotaPolicy>(q => q.UserId).OnDelete(DeleteBehavior.Cascade);
    }
}
