using DiffusionGallery.Web.Quotas;
using DiffusionGallery.Web.Tests.Admin;

namespace DiffusionGallery.Web.Tests.Quotas;

public sealed class FairShareQueueTests
{
    private readonly FixedTime _time = new(new DateTimeOffset(2026, 12, 6, 12, 0, 0, TimeSpan.Zero));

    private FairShareQueue NewQueue() => new(_time, FairShareQueue.DefaultHalfLife);

    /// <summary>Runs the next job: advances the clock by its cost and charges it, as the worker does.</summary>
    private FairShareItem RunNext(FairShareQueue queue, Func<FairShareItem, double>? cost = null)
    {
        var item = queue.Dequeue() ?? throw new InvalidOperationException("nothing queued");
        var seconds = cost?.Invoke(item) ?? item.EstimatedSeconds;
        _time.Now += TimeSpan.FromSeconds(seconds);
        queue.Charge(item.UserId, seconds);
        return item;
    }

    [Fact]
    public void AQueues20ThenBQueues2_BsFirstJobRunsNoLaterThanSecond_ThenTheyAlternate()
    {
        var queue = NewQueue();
        for (var i = 0; i < 20; i++) queue.Enqueue(Guid.NewGuid(), "A", 1, 1);
        for (var i = 0; i < 2; i++) queue.Enqueue(Guid.NewGuid(), "B", 1, 1);

        var order = Enumerable.Range(0, 22).Select(_ => RunNext(queue).UserId).ToList();
        Assert.InRange(order.IndexOf("B"), 0, 1);
        Assert.Equal("A,B,A,B,A", string.Join(",", order.Take(5)));
        Assert.Null(queue.Dequeue());
    }

    [Fact]
    public void Order_AndPositions_PredictTheDequeueSequence()
    {
        var queue = NewQueue();
        var a = Enumerable.Range(0, 3).Select(_ => queue.Enqueue(Guid.NewGuid(), "A", 2, 1)).ToList();
        var b = queue.Enqueue(Guid.NewGuid(), "B", 1, 1);
        var predicted = queue.Order().Select(i => i.JobId).ToList();
        Assert.Equal([a[0].JobId, b.JobId, a[1].JobId, a[2].JobId], predicted);
        var positions = queue.Positions();
        Assert.Equal((2, 2.0), positions[b.JobId]);      // after A's first 2-second job
        Assert.Equal((4, 5.0), positions[a[2].JobId]);  // 2 + 1 + 2

        var (position, wait) = queue.Preview("C", 1, 1); // a newcomer runs once each waiting user has had one turn
        Assert.Equal(3, position);
        Assert.Equal(3.0, wait);
        Assert.Equal(4, queue.Count); // a preview changes nothing

        var actual = Enumerable.Range(0, 4).Select(_ => RunNext(queue).JobId).ToList();
        Assert.Equal(predicted, actual);
    }

    [Theory]
    [InlineData(2.0, 1.0)]
    [InlineData(3.0, 1.0)]
    public void Weights_GiveProportionalGpuSeconds_OverALongRun(double weightA, double weightB)
    {
        var queue = NewQueue();
        var random = new Random(42);
        var used = new Dictionary<string, double> { ["A"] = 0, ["B"] = 0 };
        for (var i = 0; i < 5; i++)
        {
            queue.Enqueue(Guid.NewGuid(), "A", 1, weightA);
            queue.Enqueue(Guid.NewGuid(), "B", 1, weightB);
        }
        for (var run = 0; run < 2000; run++)
        {
            var cost = 0.5 + random.NextDouble(); // real costs differ from the estimate
            var item = RunNext(queue, _ => cost);
            used[item.UserId] += cost;
            queue.Enqueue(Guid.NewGuid(), item.UserId, 1, item.Weight); // both stay backlogged
        }
        var ratio = used["A"] / used["B"];
        Assert.InRange(ratio, weightA / weightB * 0.9, weightA / weightB * 1.1);
    }

    [Fact]
    public void RecentHeavyUse_LowersPriority_ButOnlyByABoundedCredit()
    {
        var queue = NewQueue();
        queue.Charge("A", 600); // A just used 10 GPU-minutes
        queue.Enqueue(Guid.NewGuid(), "A", 10, 1);
        queue.Enqueue(Guid.NewGuid(), "A", 10, 1);
        for (var i = 0; i < 20; i++) queue.Enqueue(Guid.NewGuid(), "B", 10, 1);

        var order = Enumerable.Range(0, 22).Select(_ => RunNext(queue).UserId).ToList();
        Assert.Equal("B", order[0]); // A's heavy use puts B first
        var firstA = order.IndexOf("A");
        // B's head start is the credit (60 s = 6 jobs of 10 s), not A's whole 600 s.
        Assert.InRange(firstA, 5, 8);
    }

    [Fact]
    public void Usage_DecaysWithTheHalfLife()
    {
        var queue = NewQueue();
        queue.Charge("A", 100);
        _time.Now += FairShareQueue.DefaultHalfLife;
        Assert.Equal(50, queue.UsageOf("A"), 6);
    }

    [Fact]
    public void Remove_TakesTheJobOutOfTheOrder()
    {
        var queue = NewQueue();
        var first = queue.Enqueue(Guid.NewGuid(), "A", 1, 1);
        var second = queue.Enqueue(Guid.NewGuid(), "A", 1, 1);
        Assert.True(queue.Remove(first.JobId));
        Assert.False(queue.Remove(first.JobId));
        Assert.Equal(second.JobId, Assert.Single(queue.Order()).JobId);
        Assert.Equal(1, queue.CountOf("A"));
    }

    [Fact]
    public void CostEstimator_LearnsFromFinishedJobs()
    {
        var estimator = new JobCostEstimator(0.05);
        Assert.Equal(25 * 0.05 / 16, estimator.Estimate(25, 1, 128, 128), 9);
        for (var i = 0; i < 50; i++) estimator.Observe(25, 1, 128, 128, 0.4);
        Assert.Equal(0.4, estimator.Estimate(25, 1, 128, 128), 3);
        Assert.Equal(1.6, estimator.Estimate(25, 4, 128, 128), 2); // a batch of 4 costs four times as much
    }
}
