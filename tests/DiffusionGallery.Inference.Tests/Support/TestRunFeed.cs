using System.Collections.Concurrent;
using DiffusionGallery.Inference.Abstractions;

namespace DiffusionGallery.Inference.Tests.Support;

/// <summary>A feed whose joiners become available when released; records what the engine asked and got back.</summary>
internal sealed class TestRunFeed : IRunFeed
{
    private readonly ConcurrentQueue<BatchItem> _released = new();
    public List<int> FreeImagesAsked { get; } = [];
    public List<(BatchItem Item, BatchItemOutcome Outcome)> Finished { get; } = [];
    public void Release(BatchItem item) => _released.Enqueue(item);

    public IReadOnlyList<BatchItem> TakeJoiners(BatchKey key, int freeImages)
    {
        lock (FreeImagesAsked) FreeImagesAsked.Add(freeImages);
        var taken = new List<BatchItem>();
        while (_released.TryPeek(out var next) && next.Request.BatchSize <= freeImages - taken.Sum(t => t.Request.BatchSize) && _released.TryDequeue(out next))
            taken.Add(next);
        return taken;
    }

    public List<int> EndedTogether { get; } = [];

    void IRunFeed.Finished(IReadOnlyList<(BatchItem Item, BatchItemOutcome Outcome)> ended)
    {
        lock (Finished)
        {
            Finished.AddRange(ended);
            EndedTogether.Add(ended.Count);
        }
    }

    public List<RunLoopReport> LoopReports { get; } = [];

    void IRunFeed.LoopReport(RunLoopReport report)
    {
        lock (LoopReports) LoopReports.Add(report);
    }

    public BatchItemOutcome OutcomeOf(BatchItem item) => Finished.Single(f => ReferenceEquals(f.Item, item)).Outcome;
}
