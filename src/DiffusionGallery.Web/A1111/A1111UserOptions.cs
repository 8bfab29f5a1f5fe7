using DiffusionGallery.Web.Data;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace DiffusionGallery.Web.A1111;

/// <summary>A user's A1111 <c>/sdapi/v1/options</c>: the checkpoint their A1111 clients generate with.</summary>
public sealed class A1111UserOptions
{
    public required string UserId { get; set; }
    /// <summary>Model folder name chosen through <c>sd_model_checkpoint</c>.</summary>
    public string SdModelCheckpoint { get; set; } = "";
    public DateTimeOffset UpdatedAt { get; set; }
}

public sealed class A1111UserOptionsConfiguration : IEntityTypeConfiguration<A1111UserOptions>
{
    public void Configure(EntityTypeBuilder<A1111UserOptions> builder)
    {
        builder.ToTable("A1111UserOptions");
        builder.HasKey(o => o.UserId);
        builder.Property(o => o.SdModelCheckpoint).HasMaxLength(200);
        // Deleting an account deletes its options with it.
        builder.HasOne<ApplicationUser>().WithMany().HasForeignKey(o => o.UserId).OnDelete(DeleteBehavior.Cascade);
    }
}

/// <summary>Reads and writes <see cref="A1111UserOptions"/> (one row per user).</summary>
public sealed class A1111OptionsStore(IDbContextFactory<ApplicationDbContext> dbFactory, TimeProvider time)
{
    public async Task<string?> GetCheckpointAsync(string userId, CancellationToken cancellationToken = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var value = await db.Set<A1111UserOptions>().Where(o => o.UserId == userId).Select(o => o.SdModelCheckpoint).SingleOrDefaultAsync(cancellationToken);
        return string.IsNullOrEmpty(value) ? null : value;
    }

    public async Task SetCheckpointAsync(string userId, string modelName, CancellationToken cancellationToken = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var row = await db.Set<A1111UserOptions>().SingleOrDefaultAsync(o => o.UserId == userId, cancellationToken);
        if (row is null) db.Set<A1111UserOptions>().Add(row = new A1111UserOptions { UserId = userId });
        row.SdModelCheckpoint = modelName;
        row.UpdatedAt = time.GetUtcNow();
        await db.SaveChangesAsync(cancellationToken);
    }
}
