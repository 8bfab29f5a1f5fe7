using DiffusionGallery.Web.Data.Entities;
using DiffusionGallery.Web.Errors;
using DiffusionGallery.Web.Options;
using DiffusionGallery.Web.Quotas;
using DiffusionGallery.Web.Tests.Support;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging.Abstractions;
using MsOptions = Microsoft.Extensions.Options.Options;

namespace DiffusionGallery.Web.Tests.Quotas;

/// <summary>Quota accounting on a real SQLite file: limits, the ledger's reservation/refund cycle, the UTC day, the policy seam.</summary>
public sealed class QuotaServiceTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private sealed class ManualTime(DateTimeOffset start) : TimeProvider
    {
        public DateTimeOffset Now { get; set; } = start;
        public override DateTimeOffset GetUtcNow() => Now;
    }

    private sealed class FixedPolicy(int? imagesPerDay, int? maxQueuedJobs = null) : IQuotaPolicyProvider
    {
        public List<string> AskedFor { get; } = [];
        public Task<EffectiveQuota> GetAsync(string userId, CancellationToken cancellationToken = default)
        {
            lock (AskedFor) AskedFor.Add(userId);
            return Task.FromResult(new EffectiveQuota(imagesPerDay, null, maxQueuedJobs, null, null, null, [], 1));
        }
    }

    private static QuotaService Create(TestDatabase db, IQuotaPolicyProvider policy, TimeProvider time, GenerationOptions? generation = null) =>
        new(db, policy, new DiffusionGallery.Web.Admin.DisabledUserAccessCheck(db, time), new JobCostEstimator(), new QuotaClock(time),
            MsOptions.Create(generation ?? new GenerationOptions { MaxQueuedJobsPerUser = 100 }), NullLogger<QuotaService>.Instance);

    private static GenerationJob Job(string owner, int batch, TimeProvider time) => new()
    {
        Id = Guid.CreateVersion7(), OwnerId = owner, CreatedAt = time.GetUtcNow(), Settings = QueueHarness.Settings(batch: batch),
    };

    [Fact]
    public async Task DailyImages_ReservedAtSubmit_RefundGivesThemBack_MidnightUtcFreesThem()
    {
        using var db = new TestDatabase();
        var user = await db.AddUserAsync("q@x.test");
        var time = new ManualTime(new DateTimeOffset(2026, 12, 6, 12, 0, 0, TimeSpan.Zero));
        var quotas = Create(db, new FixedPolicy(imagesPerDay: 5), time);

        var first = Job(user, 4, time);
        await quotas.ReserveAndStoreAsync(first, Ct);
        time.Now += TimeSpan.FromHours(1);
        var refused = await Assert.ThrowsAsync<QuotaExceededException>(() => quotas.ReserveAndStoreAsync(Job(user, 2, time), Ct));
        Assert.Equal(("imagesPerDay", 1L), (refused.Limit, refused.Remaining));
        Assert.Equal(new DateTimeOffset(2026, 12, 7, 0, 0, 0, TimeSpan.Zero), refused.ResetsAt);
        Assert.Contains("images per day: 1 left of 5", refused.Message);
        Assert.Contains("resets at 00:00 UTC (in 11 h 0 min)", refused.Message);
        Assert.Equal(4, (await quotas.GetStatusAsync(user, Ct)).ImagesUsed);

        // The job fails: its reservation is refunded and the images can be asked for again.
        await using (var context = db.CreateDbContext())
        {
            await UsageLedger.SettleAsync(context, first.Id, 0, 0.5, "CPU", time.GetUtcNow(), Ct);
            await context.SaveChangesAsync(Ct);
        }
        Assert.Equal(0, (await quotas.GetStatusAsync(user, Ct)).ImagesUsed);
        await quotas.ReserveAndStoreAsync(Job(user, 5, time), Ct);
        await Assert.ThrowsAsync<QuotaExceededException>(() => quotas.ReserveAndStoreAsync(Job(user, 1, time), Ct));

        time.Now = new DateTimeOffset(2026, 12, 7, 0, 0, 1, TimeSpan.Zero); // a new UTC day
        await quotas.ReserveAndStoreAsync(Job(user, 5, time), Ct);

        await using var check = db.CreateDbContext();
        var ledger = await check.UsageEntries.Where(u => u.UserId == user).ToListAsync(Ct);
        Assert.Equal(14, ledger.Where(u => u.Kind == UsageKind.Reservation).Sum(u => u.Images));
        Assert.Equal(4, ledger.Where(u => u.Kind == UsageKind.Refund).Sum(u => u.Images));
        Assert.Equal(3, await check.GenerationJobs.CountAsync(j => j.OwnerId == user, Ct)); // refused requests stored nothing
    }

    [Fact]
    public async Task QueuedJobsPerUser_AndQueueLength_AreEnforcedInTheSameStep()
    {
        using var db = new TestDatabase();
        var a = await db.AddUserAsync("a@x.test");
        var b = await db.AddUserAsync("b@x.test");
        var quotas = Create(db, new FixedPolicy(null, maxQueuedJobs: 2), TimeProvider.System, new GenerationOptions { MaxQueueLength = 3 });

        await quotas.ReserveAndStoreAsync(Job(a, 1, TimeProvider.System), Ct);
        await quotas.ReserveAndStoreAsync(Job(a, 1, TimeProvider.System), Ct);
        var perUser = await Assert.ThrowsAsync<QuotaExceededException>(() => quotas.ReserveAndStoreAsync(Job(a, 1, TimeProvider.System), Ct));
        Assert.Equal("queuedJobs", perUser.Limit);
        Assert.Contains("limit 2", perUser.Message);
        await quotas.ReserveAndStoreAsync(Job(b, 1, TimeProvider.System), Ct);
        var full = await Assert.ThrowsAsync<QuotaExceededException>(() => quotas.ReserveAndStoreAsync(Job(b, 1, TimeProvider.System), Ct));
        Assert.Equal("queueLength", full.Limit);
    }

    [Fact]
    public async Task PolicySeam_ItsLimitsAreTheOnesApplied()
    {
        using var db = new TestDatabase();
        var user = await db.AddUserAsync("p@x.test");
        var policy = new FixedPolicy(imagesPerDay: 2);
        var quotas = Create(db, policy, TimeProvider.System);

        await quotas.ReserveAndStoreAsync(Job(user, 2, TimeProvider.System), Ct);
        await Assert.ThrowsAsync<QuotaExceededException>(() => quotas.ReserveAndStoreAsync(Job(user, 1, TimeProvider.System), Ct));
        Assert.Equal([user, user], policy.AskedFor);
    }

    [Fact]
    public async Task DefaultPolicy_PerUserRowOverridesTheConfiguredDefaults()
    {
        using var db = new TestDatabase();
        var user = await db.AddUserAsync("row@x.test");
        var provider = new EffectiveQuotaResolver(db, MsOptions.Create(new QuotaOptions { ImagesPerDay = 50, MaxQueuedJobs = 8 }));
        Assert.Equal((50, 8), ((await provider.GetAsync(user, Ct)).ImagesPerDay, (await provider.GetAsync(user, Ct)).MaxQueuedJobs));

        await using (var context = db.CreateDbContext())
        {
            context.QuotaPolicies.Add(new QuotaPolicy { UserId = user, ImagesPerDay = 7, UpdatedAt = DateTimeOffset.UtcNow });
            await context.SaveChangesAsync(Ct);
        }
        Assert.Equal((7, 8), ((await provider.GetAsync(user, Ct)).ImagesPerDay, (await provider.GetAsync(user, Ct)).MaxQueuedJobs));
    }

    [Fact]
    public async Task ConcurrentReservations_ExactlyTheLimit()
    {
        using var db = new TestDatabase();
        var user = await db.AddUserAsync("race@x.test");
        var quotas = Create(db, new FixedPolicy(imagesPerDay: 10), TimeProvider.System, new GenerationOptions { MaxQueuedJobsPerUser = 1000 });

        var outcomes = await Task.WhenAll(Enumerable.Range(0, 40).Select(_ => Task.Run(async () =>
        {
            try { await quotas.ReserveAndStoreAsync(Job(user, 1, TimeProvider.System), Ct); return true; }
            catch (QuotaExceededException) { return false; }
        })));

        Assert.Equal(10, outcomes.Count(ok => ok));
        Assert.Equal(10, (await quotas.GetStatusAsync(user, Ct)).ImagesUsed);
    }

    [Fact]
    public async Task LayeredLimits_StepsPixelsBatchAndModels_RefusedNamingTheField_NothingStored()
    {
        using var h = new QueueHarness(quotas: new QuotaOptions { MaxSteps = 10, MaxPixels = 64 * 64, MaxBatch = 2, AllowedModels = ["tiny-shapes"] });
        var user = await h.Database.AddUserAsync("limits@x.test");
        var settings = QueueHarness.Settings(steps: 11, batch: 3);
        settings.Width = 128;
        settings.Height = 128;
        var refused = await Assert.ThrowsAsync<RequestInvalidException>(() => h.SubmitAsync(user, settings, null, Ct));
        Assert.Equal(["batchCount", "steps", "width"], refused.FieldErrors.Keys.Order().ToArray());
        Assert.Contains("at most 10 steps", refused.FieldErrors["steps"][0]);

        var ok = QueueHarness.Settings(steps: 10, batch: 2);
        ok.Width = 64;
        ok.Height = 64;
        await h.SubmitAsync(user, ok, null, Ct);
        await using var db = h.Database.CreateDbContext();
        Assert.Equal(1, await db.GenerationJobs.CountAsync(Ct));
    }

    [Fact]
    public async Task GpuSecondsPerDay_EstimateReserved_SettledByWhatRan_RefusedWithWhatIsLeft()
    {
        var time = new ManualTime(new DateTimeOffset(2026, 12, 6, 20, 0, 0, TimeSpan.Zero));
        using var h = new QueueHarness(quotas: new QuotaOptions { GpuSecondsPerDay = 1 }, time: time);
        var user = await h.Database.AddUserAsync("gpu@x.test");
        var estimate = h.Costs.Estimate(4, 1, 128, 128); // the default size
        Assert.True(estimate < 1);
        var first = await h.SubmitAsync(user, QueueHarness.Settings(), null, Ct);
        Assert.Equal(estimate, (await h.Quotas.GetStatusAsync(user, Ct)).GpuSecondsUsed, 3);

        // It really ran 0.9 s: the charge replaces the estimate.
        await using (var context = h.Database.CreateDbContext())
        {
            await UsageLedger.SettleAsync(context, first.Id, 1, 0.9, "CPU", time.GetUtcNow(), Ct);
            await context.SaveChangesAsync(Ct);
        }
        Assert.Equal(0.9, (await h.Quotas.GetStatusAsync(user, Ct)).GpuSecondsUsed, 3);
        await h.SubmitAsync(user, QueueHarness.Settings(), null, Ct); // a small job still fits in the 0.1 s left
        var big = QueueHarness.Settings(steps: 100, batch: 4); // estimated at 100 × 4 times the small one
        var refused = await Assert.ThrowsAsync<QuotaExceededException>(() => h.SubmitAsync(user, big, null, Ct));
        Assert.Equal("gpuSecondsPerDay", refused.Limit);
        Assert.Contains("left of 1, this request needs about 1.", refused.Message);
        Assert.Equal(new DateTimeOffset(2026, 12, 7, 0, 0, 0, TimeSpan.Zero), refused.ResetsAt);
    }

    [Fact]
    public async Task DisabledAccount_IsRefusedBeforeAnythingIsStored()
    {
        using var h = new QueueHarness();
        var user = await h.Database.AddUserAsync("off@x.test");
        await using (var db = h.Database.CreateDbContext())
            await db.Users.Where(u => u.Id == user).ExecuteUpdateAsync(s => s.SetProperty(u => u.DisabledAt, DateTimeOffset.UtcNow), Ct);
        h.Access.Changed(user, disabled: true);
        var refused = await Assert.ThrowsAsync<ForbiddenException>(() => h.SubmitAsync(user, QueueHarness.Settings(), null, Ct));
        Assert.Equal(QuotaService.DisabledMessage, refused.Message);
        await using var check = h.Database.CreateDbContext();
        Assert.Equal(0, await check.GenerationJobs.CountAsync(Ct));
    }
}
