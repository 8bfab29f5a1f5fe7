using DiffusionGallery.Web.Data;
using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace DiffusionGallery.Web.Tests.Support;

/// <summary>A migrated SQLite file in a temporary folder, with the app's pragmas; deleted on dispose.</summary>
internal sealed class TestDatabase : IDisposable, IDbContextFactory<ApplicationDbContext>
{
    private readonly DbContextOptions<ApplicationDbContext> _options;

    public TestDatabase()
    {
        Folder = Directory.CreateTempSubdirectory("dg-unit-").FullName;
        ConnectionString = $"Data Source={Path.Combine(Folder, "test.db")};Pooling=False";
        _options = new DbContextOptionsBuilder<ApplicationDbContext>().UseSqlite(ConnectionString)
            .UseApplicationServiceProvider(IdentityServices)
            // Migrations vs. model are checked on the app's own path by the integration tests (which fail on
            // pending changes); here the check once misfired under heavy parallelism, so it only logs.
            .ConfigureWarnings(w => w.Log(Microsoft.EntityFrameworkCore.Diagnostics.RelationalEventId.PendingModelChangesWarning))
            .AddInterceptors(new SqlitePragmaInterceptor(5000)).Options;
        using var db = CreateDbContext();
        db.Database.Migrate();
    }

    /// <summary>One application service provider for all test databases (Identity schema v3, as the app), so EF
    /// builds and caches the model once instead of once per test.</summary>
    private static readonly IServiceProvider IdentityServices = new ServiceCollection()
        .Configure<IdentityOptions>(o => o.Stores.SchemaVersion = IdentitySchemaVersions.Version3)
        .BuildServiceProvider();

    public string Folder { get; }
    public string ConnectionString { get; }

    public ApplicationDbContext CreateDbContext() => new(_options);

    /// <summary>A context with extra interceptors (e.g. one that makes a save fail), for unit tests of failure paths.</summary>
    public ApplicationDbContext CreateDbContext(params Microsoft.EntityFrameworkCore.Diagnostics.IInterceptor[] interceptors) =>
        new(new DbContextOptionsBuilder<ApplicationDbContext>(_options).AddInterceptors(interceptors).Options);

    public async Task<string> AddUserAsync(string email)
    {
        await using var db = CreateDbContext();
        var user = new ApplicationUser { Id = Guid.NewGuid().ToString(), UserName = email, Email = email, NormalizedEmail = email.ToUpperInvariant(), NormalizedUserName = email.ToUpperInvariant() };
        db.Users.Add(user);
        await db.SaveChangesAsync();
        return user.Id;
    }

    public void Dispose()
    {
        try { Directory.Delete(Folder, recursive: true); } catch (IOException) { }
    }
}
