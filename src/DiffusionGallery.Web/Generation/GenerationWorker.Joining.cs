using System.Diagnostics;
using System.Threading.Channels;
using DiffusionGallery.Inference.Abstractions;
using DiffusionGallery.Web.Data;
using DiffusionGallery.Web.Data.Entities;
using Microsoft.EntityFrameworkCore;

namespace DiffusionGallery.Web.Generation;

public sealed partial class GenerationWorker
{
    // the constructor's services, for the nested run
    private GenerationQueue Queue => queue;
    private IDbContextFactory<ApplicationDbContext> DbFactory => dbFactory;
    private TimeProvider Time => time;
    private ILogger Logger => logger;
    private int MaxImagesPerRun => options.Value.MaxImagesPerRun;
    private int MaxQueuedJobsPerUser => options.Value.MaxQueuedJobsPerUser;

    /// <summary>Whether a joinable run on this engine keeps jobs ready ahead (<see cref="Options.GenerationOptions.ReadyAhead"/>).</summary>
    private bool ReadyAheadFor(DeviceEngine engine) =>
        options.Value.ReadyAhead ?? engines.All.Count(e => e.DeviceId == engine.DeviceId) == 1;

    /// <summary>
    /// A shared run open to new jobs (continuous batching, <see cref="Options.GenerationOptions.JoinRunningRuns"/>): the
    /// engine asks it, at each step boundary, for jobs to join (<see cref="IRunFeed.TakeJoiners"/>), and hands it each
    /// job's outcome as soon as that job is done (<see cref="IRunFeed.Finished"/>), which is saved at once while the
    /// others go on.
    /// <list type="bullet">
    /// <item>A feeder task watches the queue: while the run has room, and up to one run's worth ahead of it, it takes
    /// jobs from the FRONT of the fair order (<see cref="GenerationQueue.TakeJoiners"/>), claims them in the database and
    /// loads their requests, off the GPU's thread; the engine takes the ready ones without waiting, so a wave of jobs
    /// that finish together is followed at the same step by the next.</item>
    /// <item>A saver task stores outcomes as they come (all that are waiting, in one <see cref="RunResultWriter"/> call).</item>
    /// <item>When the engine's run drains, jobs that were made ready too late start the next run of the sequence; an
    /// engine that cannot join runs (a UNet with one timestep for all rows) runs them that way.</item>
    /// </list>
    /// Each job is charged its own time in the run times its share of the UNet calls it took part in.
    /// </summary>
    private sealed class JoinableRun : IRunFeed
    {
        private readonly GenerationWorker _worker;
        private readonly DeviceEngine _engine;
        private readonly BatchKey _key;
        private readonly List<Item> _initial;
        private readonly CancellationToken _stopping;
        private readonly int _maxImages;
        private readonly Lock _gate = new();
        private readonly Queue<Item> _ready = new();
        private readonly Dictionary<BatchItem, Item> _inEngine = new(ReferenceEqualityComparer.Instance);
        // jobs of this run not yet ended in the queue (a run under steady load may go on for hours: ended ones are dropped)
        private readonly Dictionary<Guid, GenerationQueue.RunningJob> _open = [];
        private readonly Channel<List<(GenerationQueue.RunningJob Running, JobEnding Ending)>> _endings =
            Channel.CreateUnbounded<List<(GenerationQueue.RunningJob Running, JobEnding Ending)>>();
        private TaskCompletionSource _roomFreed = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private int _busyImages; // in the engine, ready, or being prepared
        // Images made ready beyond the run's room: when a group of jobs finishes together (people and programs that
        // queue ahead finish in waves), the next group joins at that same step instead of the run draining while it
        // is claimed and loaded — the GPU does not idle between waves.
        private readonly int _readyAhead;
        private int _joined;
        private int _passes; // engine calls (a run that drains while jobs were made ready too late starts another)
        private TimeSpan _engineTime;

        public JoinableRun(GenerationWorker worker, DeviceEngine engine, BatchKey key, List<Item> initial, CancellationToken stopping)
        {
            (_worker, _engine, _key, _initial, _stopping) = (worker, engine, key, initial, stopping);
            var max = engine.Batches.MaxBatchImages(initial[0].Request);
            var cap = worker.MaxImagesPerRun;
            _maxImages = Math.Max(initial.Sum(i => i.Running.Images), cap > 0 ? Math.Min(max, cap) : max);
            _readyAhead = worker.ReadyAheadFor(engine) ? _maxImages : 0;
        }

        public async Task RunAsync(Dictionary<Guid, bool> succeeded, Action lastStep)
        {
            var clock = Stopwatch.StartNew();
            var saver = Task.Run(() => SaveAsync(succeeded), CancellationToken.None);
            var total = 0;
            try
            {
                var next = _initial;
                lock (_gate)
                {
                    _busyImages += _initial.Sum(i => i.Running.Images); // (joiners count from when the feeder takes them)
                    foreach (var item in _initial) _open[item.Running.JobId] = item.Running;
                }
                // shutting down: jobs still ready stay Running in the database, requeued at start-up
                while (next.Count > 0 && !_stopping.IsCancellationRequested)
                {
                    total += next.Count;
                    using var feeding = CancellationTokenSource.CreateLinkedTokenSource(_stopping);
                    var feeder = Task.Run(() => FeedAsync(feeding.Token), CancellationToken.None);
                    var pass = Stopwatch.StartNew();
                    try
                    {
                        _passes++;
                        await RunEngineAsync(next);
                    }
                    finally
                    {
                        _engineTime += pass.Elapsed;
                        await feeding.CancelAsync();
                        await feeder; // jobs being prepared are ready (or ended) now
                    }
                    lock (_gate)
                    {
                        next = [.. _ready];
                        _ready.Clear();
                    }
                }
            }
            finally
            {
                lastStep(); // the worker may take its next run now
                _endings.Writer.Complete();
                await saver;
                // A job without a saved ending (shutting down, or its save failed) ends in the queue here, unsuccessful; its
                // row stays Running in the database and is requeued at start-up.
                List<GenerationQueue.RunningJob> open;
                lock (_gate) open = [.. _open.Values];
                foreach (var job in open) _worker.Queue.Complete(job);
            }
            _worker.Logger.LogInformation("Joinable run of {Jobs} jobs ({Joined} joined while it ran): {Ms:F0} ms, {Passes} engine passes, in the engine {InEngine:F1} %",
                total, _joined, clock.Elapsed.TotalMilliseconds, _passes, 100 * (_engineTime / clock.Elapsed));
        }

        public void LoopReport(RunLoopReport report) =>
            _worker.Logger.LogInformation("Joinable run's step loop: {Ms:F0} ms, stepping {Stepping:F1} %, waiting for joiners {Waiting:F1} %, UNet {Unet:F1} %, {Steps} steps, {Images:F1} images a step, side thread busy {Side:F1} %",
                report.Wall.TotalMilliseconds, report.Percent(report.Stepping), report.Percent(report.Waiting), report.Percent(report.Unet), report.Steps, report.ImagesPerStep,
                report.Percent(report.SideBusy));

        /// <summary>A job of this run ends in the queue (its owner's fair share is charged) and leaves the run's records.</summary>
        private void Ended(GenerationQueue.RunningJob job, bool succeeded = false)
        {
            _worker.Queue.Complete(job, succeeded);
            lock (_gate) _open.Remove(job.JobId);
        }

        private void FailLeft(Exception error)
        {
            List<BatchItem> left;
            lock (_gate) left = [.. _inEngine.Keys];
            if (left.Count > 0) Finished(left.Select(item => (item, new BatchItemOutcome(null, error))).ToList());
        }

        private async Task RunEngineAsync(List<Item> items)
        {
            var batchItems = new List<BatchItem>(items.Count);
            var now = _worker.Time.GetUtcNow();
            lock (_gate)
            {
                foreach (var item in items)
                {
                    if (!ReferenceEquals(items, _initial)) item.Running.ChargedFrom = now; // (a next run of jobs that were ready ahead)
                    var batchItem = new BatchItem(item.Request, item.Progress, item.Running.Cancellation.Token);
                    _inEngine[batchItem] = item;
                    batchItems.Add(batchItem);
                }
            }
            try
            {
                await Task.Run(() => _engine.Batches.RunJoinableAsync(batchItems, this, _maxImages, _stopping), _stopping);
            }
            catch (Exception ex) when (ex is not OperationCanceledException || !_stopping.IsCancellationRequested)
            {
                _worker.Logger.LogError(ex, "A joinable run failed");
                FailLeft(ex); // every item the engine did not hand back fails with it
            }
            catch (OperationCanceledException)
            {
                FailLeft(new OperationCanceledException(_stopping)); // shutting down
            }
        }

        /// <summary>
        /// Takes jobs from the front of the queue while there is room (and up to one run's worth ahead of it), and makes
        /// them ready for the engine.
        /// </summary>
        private async Task FeedAsync(CancellationToken ct)
        {
            await using var db = await _worker.DbFactory.CreateDbContextAsync(CancellationToken.None);
            var clock = Stopwatch.StartNew();
            while (!ct.IsCancellationRequested)
            {
                Task arrival = _worker.Queue.NextArrival, roomFreed;
                int room;
                lock (_gate)
                {
                    room = _maxImages + _readyAhead - _busyImages;
                    roomFreed = _roomFreed.Task;
                }
                var jobs = room > 0 ? _worker.Queue.TakeJoiners(_key, room, _worker.MaxQueuedJobsPerUser) : [];
                if (jobs.Count == 0)
                {
                    try
                    {
                        await Task.WhenAny(arrival, roomFreed).WaitAsync(ct);
                    }
                    catch (OperationCanceledException)
                    {
                        return;
                    }
                    continue;
                }
                lock (_gate)
                {
                    foreach (var job in jobs) _open[job.JobId] = job;
                    _busyImages += jobs.Sum(j => j.Images);
                }
                try
                {
                    // Claiming and loading are not cancelled by the end of feeding: taken jobs are made ready (or ended).
                    var (items, early) = await _worker.PrepareAsync(db, _engine, jobs, null, clock, _stopping);
                    lock (_gate)
                    {
                        foreach (var item in items) _ready.Enqueue(item);
                        _busyImages -= jobs.Sum(j => j.Images) - items.Sum(i => i.Running.Images);
                    }
                    if (early.Count > 0) _endings.Writer.TryWrite(early.Select(e => (jobs.First(j => j.JobId == e.Job.Id), e)).ToList());
                    // jobs no longer queued in the database (cancelled meanwhile) end in the queue here
                    foreach (var job in jobs.Where(j => items.All(i => i.Running != j) && early.All(e => e.Job.Id != j.JobId))) Ended(job);
                }
                catch (OperationCanceledException) when (_stopping.IsCancellationRequested)
                {
                    return; // shutting down: the taken rows stay Running in the database (requeued at start-up)
                }
                catch (Exception ex)
                {
                    _worker.Logger.LogError(ex, "Jobs {JobIds} could not join a running run", string.Join(", ", jobs.Select(j => j.JobId)));
                    foreach (var job in jobs) Ended(job); // (their rows stay Running: requeued at start-up)
                    lock (_gate) _busyImages -= jobs.Sum(j => j.Images);
                }
            }
        }

        public IReadOnlyList<BatchItem> TakeJoiners(BatchKey key, int freeImages)
        {
            if (key != _key) return [];
            lock (_gate)
            {
                if (_ready.Count == 0) return [];
                var taken = new List<BatchItem>();
                var now = _worker.Time.GetUtcNow();
                while (_ready.TryPeek(out var item) && item.Running.Images <= freeImages)
                {
                    _ready.Dequeue();
                    item.Running.ChargedFrom = now; // its GPU time starts when the engine takes it
                    freeImages -= item.Running.Images;
                    var batchItem = new BatchItem(item.Request, item.Progress, item.Running.Cancellation.Token);
                    _inEngine[batchItem] = item;
                    taken.Add(batchItem);
                    _joined++;
                }
                return taken;
            }
        }

        public void Finished(IReadOnlyList<(BatchItem Item, BatchItemOutcome Outcome)> ended)
        {
            var items = new List<(Item Item, BatchItemOutcome Outcome)>(ended.Count);
            TaskCompletionSource freed;
            lock (_gate)
            {
                foreach (var (batchItem, outcome) in ended)
                {
                    if (!_inEngine.Remove(batchItem, out var item)) continue; // handed back already
                    _busyImages -= item.Running.Images;
                    items.Add((item, outcome));
                }
                (freed, _roomFreed) = (_roomFreed, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously));
            }
            freed.TrySetResult();
            var now = _worker.Time.GetUtcNow();
            var endings = new List<(GenerationQueue.RunningJob, JobEnding)>(items.Count);
            foreach (var (item, outcome) in items)
            {
                // charged its own time in the run, times its share of the UNet calls it took part in
                var running = item.Running;
                running.LeftEngineAt = now;
                var shared = outcome.Result?.SharedBatchSize ?? 0;
                running.Share = shared > 0 ? Math.Min(1, (double)running.Images / shared) : 1;
                var gpuTime = (now - running.ChargedFrom) * running.Share; // (not the time it waited ready ahead of a full run)
                if (Ending(item, outcome, gpuTime, running.Images, running.DequeuedAt, _engine.Generator.ExecutionProvider, _stopping) is { } ending)
                    endings.Add((running, ending));
            }
            if (endings.Count > 0) _endings.Writer.TryWrite(endings);
        }

        /// <summary>Saves the endings as they come: all that are waiting in one call.</summary>
        private async Task SaveAsync(Dictionary<Guid, bool> succeeded)
        {
            await using var db = await _worker.DbFactory.CreateDbContextAsync(CancellationToken.None);
            var running = new Dictionary<Guid, GenerationQueue.RunningJob>();
            while (await _endings.Reader.WaitToReadAsync(CancellationToken.None))
            {
                var endings = new List<JobEnding>();
                while (_endings.Reader.TryRead(out var batch))
                {
                    foreach (var next in batch)
                    {
                        endings.Add(next.Ending);
                        running[next.Ending.Job.Id] = next.Running;
                    }
                }
                var clock = Stopwatch.StartNew();
                try
                {
                    var done = await _worker._results.FinishAsync(db, endings, _stopping,
                        e => { if (running.TryGetValue(e.Job.Id, out var job)) Ended(job, e.State == JobState.Succeeded); });
                    lock (succeeded)
                    {
                        // (the worker's own record holds the jobs the run started with; joiners end in the queue here)
                        foreach (var ending in endings.Where(e => succeeded.ContainsKey(e.Job.Id))) succeeded[ending.Job.Id] = done.Contains(ending.Job.Id);
                    }
                }
                catch (OperationCanceledException) when (_stopping.IsCancellationRequested)
                {
                    // shutting down: the successes' rows stay Running (requeued at start-up)
                }
                catch (Exception ex)
                {
                    _worker.Logger.LogError(ex, "Results of jobs {JobIds} could not be saved", string.Join(", ", endings.Select(e => e.Job.Id)));
                }
                var phases = RunStages.Phases(endings.Select(e => running.GetValueOrDefault(e.Job.Id)).OfType<GenerationQueue.RunningJob>(), _worker.Time.GetUtcNow());
                foreach (var ending in endings) running.Remove(ending.Job.Id);
                _worker.Logger.LogInformation("Joinable run: {Jobs} jobs ({Images} images) ended, saved in {SaveMs:F0} ms [{Stages}{Phases}]",
                    endings.Count, endings.Sum(e => e.Result?.Images.Count ?? 0), clock.Elapsed.TotalMilliseconds, RunStages.Describe(endings.Select(e => e.Result)), phases.Length > 0 ? "; " + phases : "");
            }
        }
    }
}
