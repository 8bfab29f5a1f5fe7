using DiffusionGallery.Web.Data.Entities;
using Microsoft.AspNetCore.Identity.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore;

namespace DiffusionGallery.Web.Data;

public class ApplicationDbContext(DbContextOptions<ApplicationDbContext> options) : IdentityDbContext<ApplicationUser>(options)
{
    public DbSet<GenerationJob> GenerationJobs => Set<GenerationJob>();
    public DbSet<GeneratedImage> GeneratedImages => Set<GeneratedImage>();
    public DbSet<UsageEntry> UsageEntries => Set<UsageEntry>();
    public DbSet<PersonalAccessToken> PersonalAccessTokens => Set<PersonalAccessToken>();
    public DbSet<UserPreference> UserPreferences => Set<UserPreference>();
    public DbSet<QuotaPolicy> QuotaPolicies => Set<QuotaPolicy>();
    public DbSet<Like> Likes => Set<Like>();

    /// <summary>
    /// SQLite table rebuilds (a migration that changes a column) turn foreign keys off around their transaction, and EF Core
    /// reports that PRAGMA of its own as a non-transactional migration operation (dotnet/efcore#35871): a warning on every
    /// fresh install's first start that asks the admin to revert a migration by hand. The rebuild itself still runs in
    /// the transaction, so the message is logged at Debug. (Our migrations have no other non-transactional operation:
    /// <c>MigrationLogTests</c>.)
    /// </summary>
    protected override void OnConfiguring(DbContextOptionsBuilder optionsBuilder) =>
        optionsBuilder.ConfigureWarnings(w => w.Log((Microsoft.EntityFrameworkCore.Diagnostics.RelationalEventId.NonTransactionalMigrationOperationWarning,
            Microsoft.Extensions.Logging.LogLevel.Debug)));

    protected override void OnModelCreating(ModelBuilder builder)
    {
        base.OnModelCreating(builder);
        builder.ApplyConfigurationsFromAssembly(typeof(ApplicationDbContext).Assembly);
    }

    protected override void ConfigureConventions(ModelConfigurationBuilder configurationBuilder)
    {
        // SQLite cannot order or compare DateTimeOffset natively; store UTC ticks so ORDER BY works.
        configurationBuilder.Properties<DateTimeOffset>().HaveConversion<DateTimeOffsetTicksConverter>();
        configurationBuilder.Properties<DateTimeOffset?>().HaveConversion<DateTimeOffsetTicksConverter>();
    }
}
