namespace DiffusionGallery.Web.Data.Entities;

/// <summary>
/// What a ledger row records: a <see cref="Reservation"/> when a job is accepted (it counts against the quota at once),
/// then, when the job ends, a <see cref="Charge"/> for the images made and a <see cref="Refund"/> for what was reserved
/// but not made (failed or cancelled jobs). Per job: reserved = charged + refunded.
/// </summary>
public enum UsageKind { Reservation = 0, Charge = 1, Refund = 2 }

/// <summary>Append-only ledger row (never updated or deleted). Quotas and fair share read from it.</summary>
public sealed class UsageEntry
{
    public long Id { get; set; }
    public required string UserId { get; set; }
    public Guid JobId { get; set; }
    public UsageKind Kind { get; set; } = UsageKind.Charge;
    public int Images { get; set; }
    public double GpuSeconds { get; set; }
    public string ExecutionProvider { get; set; } = "";
    public DateTimeOffset CreatedAt { get; set; }
}
