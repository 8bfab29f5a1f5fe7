namespace DiffusionGallery.Web.Data.Entities;

/// <summary>Append-only ledger row: what one finished job cost. Quotas and fair share read from it.</summary>
public sealed class UsageEntry
{
    public long Id { get; set; }
    public required string UserId { get; set; }
    public Guid JobId { get; set; }
    public int Images { get; set; }
    public double GpuSeconds { get; set; }
    public string ExecutionProvider { get; set; } = "";
    public DateTimeOffset CreatedAt { get; set; }
}
