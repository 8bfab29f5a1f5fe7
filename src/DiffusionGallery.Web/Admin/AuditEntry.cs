namespace DiffusionGallery.Web.Admin;

/// <summary>One admin action or security event: who, what, to whom, when and from where. Append-only.</summary>
public sealed class AuditEntry
{
    public long Id { get; set; }
    public DateTimeOffset At { get; set; }
    /// <summary>The acting user's id, or null for an anonymous or system event.</summary>
    public string? ActorId { get; set; }
    public string? ActorEmail { get; set; }
    /// <summary>Dotted name, e.g. <c>user.disable</c>, <c>quota.update</c>, <c>image.takedown</c>, <c>access.refused</c>.</summary>
    public required string Action { get; set; }
    /// <summary>"user", "image", … and its id.</summary>
    public string? TargetType { get; set; }
    public string? TargetId { get; set; }
    /// <summary>Short human-readable details (new values, reason).</summary>
    public string? Details { get; set; }
    public string? IpAddress { get; set; }
    public string? UserAgent { get; set; }
}
