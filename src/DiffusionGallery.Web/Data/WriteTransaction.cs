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
            var used = await db.Database.UseTransactionAsync(transaction, cancellationToken)
                ?? throw new InvalidOperationException("EF Core did not take the SQLite transaction.");
            return new OwnedTransaction(used, transaction);
        }
        return await db.Database.BeginTransactionAsync(IsolationLevel.Serializable, cancellationToken);
    }

    /// <summary>
    /// EF Core does not own a transaction handed to it by <c>UseTransaction</c>: disposing EF's wrapper uncommitted would
    /// leave the SQLite transaction open, holding the write lock, and the next <see cref="BeginWriteAsync"/> on the same
    /// context would fail as a nested transaction. This disposes (rolls back) both.
    /// </summary>
    private sealed class OwnedTransaction(IDbContextTransaction inner, SqliteTransaction owned) : IDbContextTransaction
    {
        public Guid TransactionId => inner.TransactionId;
        public void Commit() => inner.Commit();
        public Task CommitAsync(CancellationToken cancellationToken = default) => inner.CommitAsync(cancellationToken);
        public void Rollback() => inner.Rollback();
        public Task RollbackAsync(CancellationToken cancellationToken = default) => inner.RollbackAsync(cancellationToken);

        public void Dispose()
        {
            inner.Dispose();
            owned.Dispose();
        }

        public async ValueTask DisposeAsync()
        {
            await inner.DisposeAsync();
            await owned.DisposeAsync();
        }
    }
}
