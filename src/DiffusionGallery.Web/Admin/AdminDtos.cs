using DiffusionGallery.Web.Quotas;

namespace DiffusionGallery.Web.Admin;

/// <summary>A quota as the REST API shows and takes it: null = the layer below (defaults/role), 0 = unlimited.</summary>
public sealed record QuotaDto(
    int? ImagesPerDay,
    double? GpuSecondsPerDay,
    int? MaxQueuedJobs,
    int? MaxSteps,
    long? MaxPixels,
    int? MaxBatch,
    IReadOnlyList<string>? AllowedModels,
    double? Weight)
{
    /// <summary>The effective values, with unlimited shown as 0 (and every model as an empty list).</summary>
    public static QuotaDto From(EffectiveQuota quota) => new(
        quota.ImagesPerDay ?? 0, quota.GpuSecondsPerDay ?? 0, quota.MaxQueuedJobs ?? 0, quota.MaxSteps ?? 0,
        quota.MaxPixels ?? 0, quota.MaxBatch ?? 0, quota.AllowedModels, quota.Weight);

    public static QuotaDto From(QuotaLayer layer) => new(
        layer.ImagesPerDay, layer.GpuSecondsPerDay, layer.MaxQueuedJobs, layer.MaxSteps, layer.MaxPixels, layer.MaxBatch, layer.AllowedModels, layer.Weight);

    public QuotaLayer ToLayer() => new()
    {
        ImagesPerDay = ImagesPerDay,
        GpuSecondsPerDay = GpuSecondsPerDay,
        MaxQueuedJobs = MaxQueuedJobs,
        MaxSteps = MaxSteps,
        MaxPixels = MaxPixels,
        MaxBatch = MaxBatch,
        AllowedModels = AllowedModels?.Select(m => m.Trim()).Distinct(StringComparer.OrdinalIgnoreCase).ToList(),
        Weight = Weight,
    };
}

/// <summary>One row of <c>GET /api/admin/users</c>.</summary>
public sealed record AdminUserDto(
    string Id,
    string? Email,
    string? Handle,
    IReadOnlyList<string> Roles,
    bool Disabled,
    int ImagesToday,
    double GpuSecondsToday,
    int ImagesThisMonth,
    double GpuSecondsThisMonth,
    QuotaDto Quota,
    QuotaDto? QuotaOverride,
    DateTimeOffset CreatedAt);

public sealed record AdminUserPageDto(IReadOnlyList<AdminUserDto> Items, int Total);

public sealed record RolesDto(IReadOnlyList<string>? Roles);

public sealed record AuditEntryDto(long Id, DateTimeOffset At, string? ActorId, string? ActorEmail, string Action, string? TargetType, string? TargetId, string? Details, string? IpAddress)
{
    /// <summary>For a user target: the account's e-mail now (null for other targets and deleted accounts).</summary>
    public string? TargetEmail { get; init; }

    public static AuditEntryDto From(AuditEntry e) => new(e.Id, e.At, e.ActorId, e.ActorEmail, e.Action, e.TargetType, e.TargetId, e.Details, e.IpAddress);

    public static AuditEntryDto From(AuditEntry e, AuditPage page)
    {
        ArgumentNullException.ThrowIfNull(page);
        return From(e) with { TargetEmail = e.TargetId is { } id && e.TargetType == AuditLog.UserTarget ? page.TargetEmails.GetValueOrDefault(id) : null };
    }
}

public sealed record AuditPageDto(IReadOnlyList<AuditEntryDto> Items, int Total);

public enum AdminUserSort { Email, Handle, CreatedAt, ImagesToday, GpuSecondsToday, Disabled }

public sealed record AdminUserQuery(string? Search = null, int Page = 1, int PageSize = 25, AdminUserSort Sort = AdminUserSort.Email, bool Descending = false);
