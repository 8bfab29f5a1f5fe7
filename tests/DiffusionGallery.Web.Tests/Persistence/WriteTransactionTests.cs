using DiffusionGallery.Web.Data;
using DiffusionGallery.Web.Tests.Support;
using Microsoft.EntityFrameworkCore;

namespace DiffusionGallery.Web.Tests.Persistence;

/// <summary>Write transactions of one process on one database file start one after another, in order, without SQLite's busy sleeps.</summary>
public sealed class WriteTransactionTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task ASecondWrite_StartsWhenTheFirstIsDisposed_NotBefore_EvenUncommitted()
    {
        using var database = new TestDatabase();
        await using var first = database.CreateDbContext();
        await using var second = database.CreateDbContext();

        var firstTransaction = await first.BeginWriteAsync(Ct);
        var secondStarted = second.BeginWriteAsync(Ct);
        await Task.Delay(200, Ct);
        Assert.False(secondStarted.IsCompleted, "the second write started while the first held the database");

        await firstTransaction.DisposeAsync(); // rolled back, never committed: the gate opens all the same
        await using var secondTransaction = await secondStarted.WaitAsync(TimeSpan.FromSeconds(10), Ct);
        await second.Database.ExecuteSqlRawAsync("CREATE TABLE gate_check (id INTEGER)", Ct);
        await secondTransaction.CommitAsync(Ct);
    }

    [Fact]
    public async Task Writes_QueueInArrivalOrder_AndEachSeesTheOnesBefore()
    {
        using var database = new TestDatabase();
        await using (var setup = database.CreateDbContext())
            await setup.Database.ExecuteSqlRawAsync("CREATE TABLE sequence (n INTEGER)", Ct);

        var holder = database.CreateDbContext();
        var held = await holder.BeginWriteAsync(Ct);
        var writers = new List<Task>();
        for (var i = 0; i < 8; i++)
        {
            var n = i;
            writers.Add(Task.Run(async () =>
            {
                await using var db = database.CreateDbContext();
                await using var transaction = await db.BeginWriteAsync(Ct);
                await db.Database.ExecuteSqlAsync($"INSERT INTO sequence (n) VALUES ({n})", Ct);
                await transaction.CommitAsync(Ct);
            }, Ct));
            await Task.Delay(30, Ct); // queued one after another behind the holder
        }
        await held.DisposeAsync();
        await holder.DisposeAsync();
        await Task.WhenAll(writers).WaitAsync(TimeSpan.FromSeconds(30), Ct);

        await using var check = database.CreateDbContext();
        var order = await check.Database.SqlQueryRaw<int>("SELECT n AS Value FROM sequence ORDER BY rowid").ToListAsync(Ct);
        Assert.Equal(Enumerable.Range(0, 8), order);
    }

    [Fact]
    public async Task WritesOnAnotherDatabaseFile_DoNotWait()
    {
        using var a = new TestDatabase();
        using var b = new TestDatabase();
        await using var onA = a.CreateDbContext();
        await using var onB = b.CreateDbContext();

        await using var heldOnA = await onA.BeginWriteAsync(Ct);
        await using var onBTransaction = await onB.BeginWriteAsync(Ct).WaitAsync(TimeSpan.FromSeconds(5), Ct);
        await onBTransaction.CommitAsync(Ct);
    }
}
