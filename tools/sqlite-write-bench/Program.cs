// Concurrent write transactions on one SQLite file (WAL, busy_timeout 30 s, synchronous NORMAL), each BEGIN IMMEDIATE,
// three 200-byte INSERTs and ~0.2 ms of work, then COMMIT; WRITERS tasks × 200 transactions each, a fresh connection per
// transaction (as the app's DbContexts), two rounds. "busy": waiting is left to SQLite's busy handler (what the app did
// before 2026-12-08); "gate": each transaction first waits its turn on one SemaphoreSlim (Data/WriteTransaction now).
//   dotnet run -c Release --project tools/sqlite-write-bench [WRITERS ...]      (default: 4 16 32)
using System.Diagnostics;
using Microsoft.Data.Sqlite;

var counts = args.Length > 0 ? args.Select(int.Parse).ToArray() : [4, 16, 32];
var folder = Directory.CreateTempSubdirectory("dg-sqlite-bench-").FullName;
var connectionString = $"Data Source={Path.Combine(folder, "bench.db")};Pooling=False";
using (var setup = new SqliteConnection(connectionString))
{
    setup.Open();
    Execute(setup, "PRAGMA journal_mode=WAL; CREATE TABLE t(id INTEGER PRIMARY KEY, v TEXT);");
}

var gate = new SemaphoreSlim(1, 1);
Console.WriteLine($"{Environment.ProcessorCount} processors; transactions a second, then each transaction's time from asking to commit (ms)");
for (var round = 1; round <= 2; round++)
{
    foreach (var writers in counts)
    {
        foreach (var mode in new[] { "busy", "gate" })
        {
            var times = new List<double>();
            var clock = Stopwatch.StartNew();
            await Task.WhenAll(Enumerable.Range(0, writers).Select(_ => Task.Run(async () =>
            {
                for (var i = 0; i < 200; i++)
                {
                    var start = Stopwatch.GetTimestamp();
                    await using var connection = new SqliteConnection(connectionString);
                    connection.Open();
                    Execute(connection, "PRAGMA busy_timeout=30000; PRAGMA synchronous=NORMAL;");
                    if (mode == "gate") await gate.WaitAsync();
                    try
                    {
                        using var transaction = connection.BeginTransaction(deferred: false);
                        for (var k = 0; k < 3; k++) Execute(connection, $"INSERT INTO t(v) VALUES ('{new string('x', 200)}')", transaction);
                        Thread.SpinWait(20_000);
                        transaction.Commit();
                    }
                    finally
                    {
                        if (mode == "gate") gate.Release();
                    }
                    var ms = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
                    lock (times) times.Add(ms);
                    await Task.Delay(Random.Shared.Next(0, 3));
                }
            })));
            times.Sort();
            Console.WriteLine($"round {round}  {mode,-4}  {writers,2} writers: {times.Count / clock.Elapsed.TotalSeconds,6:F0} tx/s   mean {times.Average(),6:F2}   p50 {times[times.Count / 2],6:F2}   p99 {times[(int)(times.Count * 0.99)],7:F2}   max {times[^1],7:F1}");
        }
    }
}
Directory.Delete(folder, recursive: true);

static void Execute(SqliteConnection connection, string sql, SqliteTransaction? transaction = null)
{
    using var command = connection.CreateCommand();
    command.CommandText = sql;
    command.Transaction = transaction;
    command.ExecuteNonQuery();
}
