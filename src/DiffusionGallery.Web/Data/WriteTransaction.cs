using System.Data;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Storage;

namespace DiffusionGallery.Web.Data;

/// <summary>
/// A transaction that takes the database's write lock at its start (SQLite <c>BEGIN IMMEDIATE</c>), so what it reads
/// cannot change before it commits: check-then-write sequences (quota checks) are one atomic step, also across processes.
/// Within this process such transactions on one database file also queue in arrival order on an async gate before they
/// ask SQLite for the lock: SQLite's busy handler makes a waiting writer sleep in growing steps (up to 100 ms at a time)
/// and lets later writers pass it, so under many concurrent writers (submissions, the worker's claims and saves) some
/// waited seconds while the lock was free most of the time (tools/sqlite-write-bench, 4–32 writers: worst wait 0.1–1.9 s
/// without the gate, at most 37 ms with it, and 5–32 % more transactions a second; docs/benchmarks.md).
/// </summary>
public static class WriteTransaction
{
    /// <summary>The longest a write waits for the others of this process before it fails (a write nested in another's would wait forever).</summary>
    public static readonly TimeSpan GateTimeout = TimeSpan.FromSeconds(30);

    private static readonly System.Collections.Concurrent.ConcurrentDictionary<string, SemaphoreSlim> Gates = new(StringComparer.Ordinal);

    public static async Task<IDbContextTransaction> BeginWriteAsync(this ApplicationDbContext db, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(db);
        if (db.Database.GetDbConnection() is SqliteConnection sqlite)
        {
            var gate = Gates.GetOrAdd(sqlite.DataSource, _ => new SemaphoreSlim(1, 1));
            if (!await gate.WaitAsync(GateTimeout, cancellationToken))
                throw new TimeoutException($"No write transaction on {sqlite.DataSource} could start in {GateTimeout.TotalSeconds} s: another held it.");
            try
            {
                await db.Database.OpenConnectionAsync(cancellationToken);
                var transaction = sqlite.BeginTransaction(deferred: false); // BEGIN IMMEDIATE (other processes: waits up to busy_timeout)
                var used = await db.Database.UseTransactionAsync(transaction, cancellationToken)
                    ?? throw new InvalidOperationException("EF Core did not take the SQLite transaction.");
                return new OwnedTransaction(used, transaction, gate);
            }
            catch
            {
                gate.Release();
                throw;
            }
        }
        return await db.Database.BeginTransactionAsync(IsolationLevel.Serializable, cancellationToken);
    }

    /// <summary>
    /// EF Core does not own a transaction handed to it by <c>UseTransaction</c>: disposing EF's wrapper uncommitted would
    /// leave the SQLite transaction open, holding the write lock, and the next <see cref="BeginWriteAsync"/> on the same
    /// context would fail as a nested transaction. This disposes (rolls back) both, then lets the next write of this
    /// process start.
    /// </summary>
    private sealed class OwnedTransaction(IDbContextTransaction inner, SqliteTransaction owned, SemaphoreSlim gate) : IDbContextTransaction
    {
        private int _released;

        public Guid TransactionId => inner.TransactionId;
        public void Commit() => inner.Commit();
        public Task CommitAsync(CancellationToken cancellationToken = default) => inner.CommitAsync(cancellationToken);
        public void Rollback() => inner.Rollback();
        public Task RollbackAsync(CancellationToken cancellationToken = default) => inner.RollbackAsync(cancellationToken);

        public void Dispose()
        {
            try
            {
                inner.Dispose();
                owned.Dispose();
            }
            finally
            {
                Release();
            }
        }

        public async ValueTask DisposeAsync()
        {
            try
            {
                await inner.DisposeAsync();
                await owned.DisposeAsync();
            }
            finally
            {
                Release();
            }
        }

        private void Release()
        {
            if (Interlocked.Exchange(ref _released, 1) == 0)
                gate.Release();
        }
    }
}
