using DiffusionGallery.Web.Data;
using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Diagnostics;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace DiffusionGallery.Web.Tests.Migrations;

/// <summary>
/// A fresh database's migrations log no warning that asks an admin to act: the SQLite rebuilds' own foreign-key PRAGMA,
/// which EF Core reports as a non-transactional operation, is logged at Debug — and it is the only such operation.
/// </summary>
public sealed class MigrationLogTests
{
    private sealed class Capture : ILoggerProvider, ILogger
    {
        public List<(LogLevel Level, EventId Id, string Message)> Entries { get; } = [];
        public ILogger CreateLogger(string categoryName) => this;
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;
        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            lock (Entries) Entries.Add((logLevel, eventId, formatter(state, exception)));
        }

        public void Dispose()
        {
        }
    }

    [Fact]
    public async Task MigratingAFreshDatabase_WarnsOfNothing_AndTheOnlyNonTransactionalOperationsAreTheRebuildsForeignKeyPragma()
    {
        var folder = Directory.CreateTempSubdirectory("dg-migrate-").FullName;
        try
        {
            var capture = new Capture();
            using var loggers = LoggerFactory.Create(b => b.AddProvider(capture).SetMinimumLevel(LogLevel.Trace));
            var options = new DbContextOptionsBuilder<ApplicationDbContext>()
                .UseSqlite($"Data Source={Path.Combine(folder, "app.db")};Pooling=False")
                .UseLoggerFactory(loggers)
                // its own EF Core service provider, so its own model cache: a model cached by another test's context
                // (another Identity schema version) is not taken for this one
                .EnableServiceProviderCaching(false)
                .UseApplicationServiceProvider(new ServiceCollection() // (Identity schema v3, as the app)
                    .Configure<IdentityOptions>(o => o.Stores.SchemaVersion = IdentitySchemaVersions.Version3).BuildServiceProvider())
                .Options;
            await using (var db = new ApplicationDbContext(options))
                await db.Database.MigrateAsync(TestContext.Current.CancellationToken);

            var nonTransactional = capture.Entries.Where(e => e.Id.Id == RelationalEventId.NonTransactionalMigrationOperationWarning.Id).ToList();
            Assert.NotEmpty(nonTransactional); // (a rebuild is among the migrations: the check below has something to see)
            Assert.All(nonTransactional, e =>
            {
                Assert.Equal(LogLevel.Debug, e.Level);
                Assert.Contains("'PRAGMA foreign_keys = ", e.Message);
            });
            Assert.DoesNotContain(capture.Entries, e => e.Level >= LogLevel.Warning && e.Id.Name?.StartsWith("Microsoft.EntityFrameworkCore.Migrations", StringComparison.Ordinal) == true);
        }
        finally
        {
            Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
            Directory.Delete(folder, recursive: true);
        }
    }
}
