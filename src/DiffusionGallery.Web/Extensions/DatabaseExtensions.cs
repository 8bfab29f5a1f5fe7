using DiffusionGallery.Web.Accounts;
using DiffusionGallery.Web.Data;
using DiffusionGallery.Web.Options;
using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace Microsoft.Extensions.Hosting;

public static class DatabaseExtensions
{
    /// <summary>EF Core on SQLite (WAL, busy timeout, foreign keys), as a context factory for components and singletons.</summary>
    public static IHostApplicationBuilder AddDatabase(this IHostApplicationBuilder builder)
    {
        builder.Services.AddDbContextFactory<ApplicationDbContext>((services, db) =>
        {
            var options = services.GetRequiredService<IOptions<DatabaseOptions>>().Value;
            var connectionString = AppPaths.ResolveSqlite(options.ConnectionString);
            EnsureFolderFor(connectionString);
            db.UseSqlite(connectionString).AddInterceptors(new SqlitePragmaInterceptor(options.BusyTimeoutMs));
        });
        builder.Services.AddHostedService<DatabaseInitializer>();
        return builder;
    }

    private static void EnsureFolderFor(string connectionString)
    {
        var source = new Microsoft.Data.Sqlite.SqliteConnectionStringBuilder(connectionString).DataSource;
        if (string.IsNullOrEmpty(source) || source == ":memory:") return;
        var folder = Path.GetDirectoryName(Path.GetFullPath(source));
        if (!string.IsNullOrEmpty(folder)) Directory.CreateDirectory(folder);
    }
}

/// <summary>Runs before every other start-up step (queue recovery, the worker, the server): applies migrations, creates roles.</summary>
internal sealed class DatabaseInitializer(IServiceProvider services, ILogger<DatabaseInitializer> logger) : IHostedService
{
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        await using var scope = services.CreateAsyncScope();
        var factory = scope.ServiceProvider.GetRequiredService<IDbContextFactory<ApplicationDbContext>>();
        await using (var db = await factory.CreateDbContextAsync(cancellationToken))
        {
            await db.Database.MigrateAsync(cancellationToken);
            logger.LogInformation("Database ready at {DataSource}", db.Database.GetDbConnection().DataSource);
        }
        var roles = scope.ServiceProvider.GetRequiredService<RoleManager<IdentityRole>>();
        foreach (var role in AccountRoles.All)
        {
            if (!await roles.RoleExistsAsync(role)) await roles.CreateAsync(new IdentityRole(role));
        }
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
