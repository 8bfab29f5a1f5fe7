using System.Security.Claims;
using DiffusionGallery.Web.Accounts;
using DiffusionGallery.Web.Data;
using DiffusionGallery.Web.Data.Entities;
using DiffusionGallery.Web.Generation;
using DiffusionGallery.Web.Options;
using DiffusionGallery.Web.Quotas;
using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace DiffusionGallery.Web.Admin;

/// <summary>
/// The admin's operations on accounts: list with usage and quota, edit quota and weight, disable/enable, roles,
/// take down content. Every call re-checks, against the database, that the actor is an enabled Admin, and
/// every change is written to the audit log.
/// </summary>
public sealed class AdminUserService(
    IDbContextFactory<ApplicationDbContext> dbFactory,
    IServiceScopeFactory scopes,
    IOptionsMonitor<QuotaOptions> quotaOptions,
    UsageQueries usage,
    DisabledUserAccessCheck access,
    GenerationQueue queue,
    JobNotifier notifier,
    AuditLog audit,
    TimeProvider time)
{
    public const int MaxPageSize = 100;

    // Role changes and disabling are serialized, so two admins demoting each other cannot leave none.
    private static readonly SemaphoreSlim s_roleGate = new(1, 1);

    /// <summary>The roles an admin may hand out: the built-in ones and every role with a quota layer.</summary>
    public IReadOnlyList<string> AssignableRoles =>
        AccountRoles.All.Concat(quotaOptions.CurrentValue.Roles.Keys).Distinct(StringComparer.OrdinalIgnoreCase).Order(StringComparer.Ordinal).ToList();

    public async Task RequireAdminAsync(ClaimsPrincipal actor, CancellationToken cancellationToken = default)
    {
        var id = actor.FindFirstValue(ClaimTypes.NameIdentifier) ?? throw AdminRequestException.Forbidden();
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var isAdmin = await (from ur in db.UserRoles
                             join r in db.Roles on ur.RoleId equals r.Id
                             join u in db.Users on ur.UserId equals u.Id
                             where ur.UserId == id && r.Name == AccountRoles.Admin && u.DisabledAt == null
                             select ur).AnyAsync(cancellationToken);
        if (!isAdmin) throw AdminRequestException.Forbidden();
    }

    public async Task<AdminUserPageDto> ListAsync(ClaimsPrincipal actor, AdminUserQuery query, CancellationToken cancellationToken = default)
    {
        await RequireAdminAsync(actor, cancellationToken);
        return await QueryAsync(query, cancellationToken);
    }

    private async Task<AdminUserPageDto> QueryAsync(AdminUserQuery query, CancellationToken cancellationToken)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var users = db.Users.AsNoTracking();
        if (!string.IsNullOrWhiteSpace(query.Search))
        {
            var term = query.Search.Trim().ToUpperInvariant();
            users = users.Where(u => (u.NormalizedEmail != null && u.NormalizedEmail.Contains(term)) || (u.NormalizedUserName != null && u.NormalizedUserName.Contains(term)) || u.Id == query.Search.Trim());
        }
        var matched = await users.Select(u => new { u.Id, u.Email, u.UserName, u.CreatedAt, u.DisabledAt }).ToListAsync(cancellationToken);
        var ids = matched.Select(u => u.Id).ToList();
        var today = await usage.TodayAsync(null, cancellationToken);

        var sorted = query.Sort switch
        {
            AdminUserSort.Handle => matched.OrderBy(u => u.UserName, StringComparer.OrdinalIgnoreCase),
            AdminUserSort.CreatedAt => matched.OrderBy(u => u.CreatedAt),
            AdminUserSort.ImagesToday => matched.OrderBy(u => today.GetValueOrDefault(u.Id, UsageTotals.None).Images),
            AdminUserSort.GpuSecondsToday => matched.OrderBy(u => today.GetValueOrDefault(u.Id, UsageTotals.None).GpuSeconds),
            AdminUserSort.Disabled => matched.OrderBy(u => u.DisabledAt is not null),
            _ => matched.OrderBy(u => u.Email, StringComparer.OrdinalIgnoreCase),
        };
        var ordered = (query.Descending ? sorted.Reverse() : sorted).ToList();
        var size = Math.Clamp(query.PageSize, 1, MaxPageSize);
        var page = Math.Max(1, query.Page);
        var pageUsers = ordered.Skip((page - 1) * size).Take(size).ToList();
        var pageIds = pageUsers.Select(u => u.Id).ToList();

        var roles = (await (from ur in db.UserRoles
                            join r in db.Roles on ur.RoleId equals r.Id
                            where pageIds.Contains(ur.UserId)
                            select new { ur.UserId, r.Name }).ToListAsync(cancellationToken))
            .ToLookup(x => x.UserId, x => x.Name ?? "");
        var policies = await db.QuotaPolicies.AsNoTracking().Where(q => pageIds.Contains(q.UserId)).ToDictionaryAsync(q => q.UserId, cancellationToken);
        var month = await usage.ThisMonthAsync(pageIds, cancellationToken);
        var defaults = quotaOptions.CurrentValue;

        var items = pageUsers.Select(u =>
        {
            var userRoles = roles[u.Id].Order(StringComparer.Ordinal).ToList();
            var policy = policies.GetValueOrDefault(u.Id);
            var todayUse = today.GetValueOrDefault(u.Id, UsageTotals.None);
            var monthUse = month.GetValueOrDefault(u.Id, UsageTotals.None);
            return new AdminUserDto(u.Id, u.Email, u.UserName, userRoles, u.DisabledAt is not null,
                todayUse.Images, Math.Round(todayUse.GpuSeconds, 3), monthUse.Images, Math.Round(monthUse.GpuSeconds, 3),
                QuotaDto.From(EffectiveQuotaResolver.Resolve(defaults, userRoles, policy)),
                policy is null ? null : QuotaDto.From(EffectiveQuotaResolver.ToLayer(policy)),
                u.CreatedAt);
        }).ToList();
        return new AdminUserPageDto(items, ordered.Count);
    }

    public async Task<AdminUserDto> GetAsync(ClaimsPrincipal actor, string userId, CancellationToken cancellationToken = default)
    {
        await RequireAdminAsync(actor, cancellationToken);
        return await ReadAsync(userId, cancellationToken);
    }

    /// <summary>
    /// The user as the admin pages show them, without checking the actor again: after a change that was allowed when it
    /// began (an admin may take away their own role while another admin remains), its answer is that change's result.
    /// </summary>
    private async Task<AdminUserDto> ReadAsync(string userId, CancellationToken cancellationToken)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var user = await db.Users.AsNoTracking().SingleOrDefaultAsync(u => u.Id == userId, cancellationToken) ?? throw AdminRequestException.NotFound("The user");
        var result = await QueryAsync(new AdminUserQuery(user.Id, 1, 1), cancellationToken);
        return result.Items.Single(i => i.Id == user.Id);
    }

    /// <summary>Replaces the user's override (null fields = the defaults); an all-null body removes the override.</summary>
    public async Task<AdminUserDto> SetQuotaAsync(ClaimsPrincipal actor, AuditActor who, string userId, QuotaDto body, CancellationToken cancellationToken = default)
    {
        await RequireAdminAsync(actor, cancellationToken);
        var layer = body.ToLayer();
        var errors = layer.Validate();
        if (errors.Count > 0) throw AdminRequestException.Invalid("The quota has values out of range.", errors);

        var empty = IsEmpty(layer);
        await using (var db = await dbFactory.CreateDbContextAsync(cancellationToken))
        {
            if (!await db.Users.AnyAsync(u => u.Id == userId, cancellationToken)) throw AdminRequestException.NotFound("The user");
            var policy = await db.QuotaPolicies.SingleOrDefaultAsync(q => q.UserId == userId, cancellationToken);
            if (empty)
            {
                if (policy is not null) db.QuotaPolicies.Remove(policy);
            }
            else
            {
                if (policy is null)
                {
                    policy = new QuotaPolicy { UserId = userId };
                    db.QuotaPolicies.Add(policy);
                }
                policy.ImagesPerDay = layer.ImagesPerDay;
                policy.GpuSecondsPerDay = layer.GpuSecondsPerDay;
                policy.MaxQueuedJobs = layer.MaxQueuedJobs;
                policy.MaxSteps = layer.MaxSteps;
                policy.MaxPixels = layer.MaxPixels;
                policy.MaxBatch = layer.MaxBatch;
                policy.AllowedModels = layer.AllowedModels?.ToList();
                policy.Weight = layer.Weight;
                policy.UpdatedAt = time.GetUtcNow();
                policy.UpdatedBy = who.UserId;
            }
            await db.SaveChangesAsync(cancellationToken);
        }
        await audit.RecordAsync(who, "quota.update", "user", userId, empty ? "override removed" : Describe(layer), cancellationToken);
        return await ReadAsync(userId, cancellationToken);
    }

    public async Task<AdminUserDto> SetDisabledAsync(ClaimsPrincipal actor, AuditActor who, string userId, bool disabled, CancellationToken cancellationToken = default)
    {
        await RequireAdminAsync(actor, cancellationToken);
        await s_roleGate.WaitAsync(cancellationToken);
        try
        {
            await using var scope = scopes.CreateAsyncScope();
            var users = scope.ServiceProvider.GetRequiredService<UserManager<ApplicationUser>>();
            var user = await users.FindByIdAsync(userId) ?? throw AdminRequestException.NotFound("The user");
            if (disabled && user.Id == who.UserId) throw AdminRequestException.Conflict("You cannot disable your own account.");
            if (disabled && await users.IsInRoleAsync(user, AccountRoles.Admin) && await CountEnabledAdminsAsync(cancellationToken) <= 1)
                throw AdminRequestException.Conflict("This is the last enabled admin; promote another admin first.");
            if ((user.DisabledAt is not null) == disabled) return await ReadAsync(userId, cancellationToken);

            user.DisabledAt = disabled ? time.GetUtcNow() : null;
            // Lockout makes Identity refuse every sign-in (password, passkey, external) and the token handler
            // refuse tokens; the new security stamp ends cookie sessions at their next validation.
            user.LockoutEnabled = true;
            user.LockoutEnd = disabled ? DateTimeOffset.MaxValue : null;
            if (!disabled) user.AccessFailedCount = 0;
            Check(await users.UpdateAsync(user));
            Check(await users.UpdateSecurityStampAsync(user));
        }
        finally
        {
            s_roleGate.Release();
        }
        access.Changed(userId, disabled);
        var cancelled = disabled ? await CancelWaitingJobsAsync(userId, cancellationToken) : 0;
        await audit.RecordAsync(who, disabled ? "user.disable" : "user.enable", "user", userId,
            disabled ? $"{cancelled} waiting job(s) cancelled" : null, cancellationToken);
        return await ReadAsync(userId, cancellationToken);
    }

    public async Task<AdminUserDto> SetRolesAsync(ClaimsPrincipal actor, AuditActor who, string userId, IReadOnlyList<string>? roles, CancellationToken cancellationToken = default)
    {
        await RequireAdminAsync(actor, cancellationToken);
        var assignable = AssignableRoles;
        if (roles is null || roles.Count == 0)
            throw AdminRequestException.Invalid("Give at least one role.", new Dictionary<string, string[]> { ["roles"] = ["Give at least one role, e.g. [\"User\"]."] });
        var unknown = roles.Where(r => !assignable.Contains(r, StringComparer.OrdinalIgnoreCase)).ToList();
        if (unknown.Count > 0)
            throw AdminRequestException.Invalid("Unknown role.", new Dictionary<string, string[]> { ["roles"] = [$"Unknown role(s): {string.Join(", ", unknown)}. Known: {string.Join(", ", assignable)}."] });
        var wanted = roles.Select(r => assignable.First(a => string.Equals(a, r, StringComparison.OrdinalIgnoreCase))).Distinct().ToList();

        string[] before, after;
        await s_roleGate.WaitAsync(cancellationToken);
        try
        {
            await using var scope = scopes.CreateAsyncScope();
            var users = scope.ServiceProvider.GetRequiredService<UserManager<ApplicationUser>>();
            var roleStore = scope.ServiceProvider.GetRequiredService<RoleManager<IdentityRole>>();
            var user = await users.FindByIdAsync(userId) ?? throw AdminRequestException.NotFound("The user");
            var current = await users.GetRolesAsync(user);
            before = [.. current.Order(StringComparer.Ordinal)];
            var losesAdmin = current.Contains(AccountRoles.Admin) && !wanted.Contains(AccountRoles.Admin);
            if (losesAdmin && user.DisabledAt is null && await CountEnabledAdminsAsync(cancellationToken) <= 1)
                throw AdminRequestException.Conflict("This is the last admin; promote another admin first.");
            foreach (var role in wanted)
            {
                if (!await roleStore.RoleExistsAsync(role)) Check(await roleStore.CreateAsync(new IdentityRole(role)));
            }
            var remove = current.Except(wanted, StringComparer.Ordinal).ToList();
            var add = wanted.Except(current, StringComparer.Ordinal).ToList();
            if (remove.Count > 0) Check(await users.RemoveFromRolesAsync(user, remove));
            if (add.Count > 0) Check(await users.AddToRolesAsync(user, add));
            if (remove.Count > 0 || add.Count > 0) Check(await users.UpdateSecurityStampAsync(user)); // sessions pick up the new roles
            after = [.. wanted.Order(StringComparer.Ordinal)];
        }
        finally
        {
            s_roleGate.Release();
        }
        await audit.RecordAsync(who, "user.roles", "user", userId, $"{string.Join("+", before)} -> {string.Join("+", after)}", cancellationToken);
        return await ReadAsync(userId, cancellationToken);
    }

    /// <summary>Takes down every image of the user (kept for the audit, hidden everywhere); returns how many.</summary>
    public async Task<int> TakeDownContentAsync(ClaimsPrincipal actor, AuditActor who, string userId, CancellationToken cancellationToken = default)
    {
        await RequireAdminAsync(actor, cancellationToken);
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        if (!await db.Users.AnyAsync(u => u.Id == userId, cancellationToken)) throw AdminRequestException.NotFound("The user");
        var now = time.GetUtcNow();
        var count = await db.GeneratedImages.Where(i => i.OwnerId == userId && i.TakenDownAt == null)
            .ExecuteUpdateAsync(s => s.SetProperty(i => i.TakenDownAt, now), cancellationToken);
        await audit.RecordAsync(who, "content.takedown", "user", userId, $"{count} image(s) taken down", cancellationToken);
        return count;
    }

    /// <summary>Takes one image down: hidden from Explore, profiles and share links at once; the row and files are kept.</summary>
    public async Task TakeDownImageAsync(ClaimsPrincipal actor, AuditActor who, Guid imageId, CancellationToken cancellationToken = default)
    {
        await RequireAdminAsync(actor, cancellationToken);
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var image = await db.GeneratedImages.Where(i => i.Id == imageId).Select(i => new { i.OwnerId, i.TakenDownAt }).SingleOrDefaultAsync(cancellationToken)
            ?? throw AdminRequestException.NotFound("The image");
        if (image.TakenDownAt is not null) return;
        var now = time.GetUtcNow();
        await db.GeneratedImages.Where(i => i.Id == imageId && i.TakenDownAt == null).ExecuteUpdateAsync(s => s.SetProperty(i => i.TakenDownAt, now), cancellationToken);
        await audit.RecordAsync(who, "image.takedown", "image", imageId.ToString(), $"owner {image.OwnerId}", cancellationToken);
    }

    private async Task<int> CountEnabledAdminsAsync(CancellationToken cancellationToken)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        return await (from ur in db.UserRoles
                      join r in db.Roles on ur.RoleId equals r.Id
                      join u in db.Users on ur.UserId equals u.Id
                      where r.Name == AccountRoles.Admin && u.DisabledAt == null
                      select ur.UserId).Distinct().CountAsync(cancellationToken);
    }

    /// <summary>A disabled account's waiting jobs are cancelled (and refunded); a running one is told to stop.</summary>
    private async Task<int> CancelWaitingJobsAsync(string userId, CancellationToken cancellationToken)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var jobs = await db.GenerationJobs.Where(j => j.OwnerId == userId && (j.State == JobState.Queued || j.State == JobState.Running))
            .Select(j => j.Id).ToListAsync(cancellationToken);
        var cancelled = 0;
        foreach (var jobId in jobs)
        {
            switch (queue.TryCancel(jobId, userId))
            {
                case QueueCancelResult.RunningSignalled:
                    cancelled++; // the worker records it and the refund
                    break;
                case QueueCancelResult.RemovedFromQueue:
                    await using (var transaction = await db.BeginWriteAsync(CancellationToken.None))
                    {
                        var now = time.GetUtcNow();
                        var changed = await db.GenerationJobs.Where(j => j.Id == jobId && j.State == JobState.Queued)
                            .ExecuteUpdateAsync(s => s.SetProperty(j => j.State, JobState.Cancelled).SetProperty(j => j.FinishedAt, now), CancellationToken.None);
                        if (changed > 0)
                        {
                            await UsageLedger.SettleAsync(db, jobId, 0, 0, "", now, CancellationToken.None);
                            await db.SaveChangesAsync(CancellationToken.None);
                        }
                        await transaction.CommitAsync(CancellationToken.None);
                    }
                    notifier.Publish(new JobUpdate { JobId = jobId, State = JobState.Cancelled });
                    cancelled++;
                    break;
            }
        }
        return cancelled;
    }

    private static bool IsEmpty(QuotaLayer layer) =>
        layer.ImagesPerDay is null && layer.GpuSecondsPerDay is null && layer.MaxQueuedJobs is null && layer.MaxSteps is null
        && layer.MaxPixels is null && layer.MaxBatch is null && layer.AllowedModels is null && layer.Weight is null;

    private static string Describe(QuotaLayer layer)
    {
        var parts = new List<string>();
        void Add(string name, object? value)
        {
            if (value is not null) parts.Add($"{name}={value}");
        }
        Add("imagesPerDay", layer.ImagesPerDay);
        Add("gpuSecondsPerDay", layer.GpuSecondsPerDay);
        Add("maxQueuedJobs", layer.MaxQueuedJobs);
        Add("maxSteps", layer.MaxSteps);
        Add("maxPixels", layer.MaxPixels);
        Add("maxBatch", layer.MaxBatch);
        Add("allowedModels", layer.AllowedModels is null ? null : "[" + string.Join(";", layer.AllowedModels) + "]");
        Add("weight", layer.Weight);
        return string.Join(" ", parts);
    }

    private static void Check(IdentityResult result)
    {
        if (!result.Succeeded) throw new InvalidOperationException(string.Join(" ", result.Errors.Select(e => e.Description)));
    }
}
