using System.Data;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Storage;

namespace DiffusionGallery.Web.Data;

/// <summary>
/// A transaction that takes the database's write lock at its start (SQLite <c>BEGIN IMMEDIATE</c>), so what it reads
/// cannot change before it commits: check-then-write sequences (quota checks) are one atomic step, also across processes.
/// </summary>
public static class WriteTransaction
{
    public static async Task<IDbContextTransaction> BeginWriteAsync(this ApplicationDbContext db, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(db);
        if (db.Database.GetDbConnection() is SqliteConnection sqlite)
        {
            await db.Database.OpenConnectionAsync(cancellationToken);
            var transaction = sqlite.BeginTransaction(deferred: false); // BEGIN IMMEDIATE (waits up to busy_timeout)
            return await db.Database.UseTransactionAsync(transaction, cancellationToken)
                ?? throw new InvalidOperationException("EF Core did not take the SQLite transaction.");
        }
        return await db.Database.BeginTransactionAsync(IsolationLevel.Serializable, cancellationToken);
    }
}
