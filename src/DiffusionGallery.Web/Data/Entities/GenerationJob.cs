namespace DiffusionGallery.Web.Data.Entities;

public enum JobState { Queued = 0, Running = 1, Succeeded = 2, Failed = 3, Cancelled = 4 }

/// <summary>A queued or finished generation. The database is the source of truth; the in-memory queue is rebuilt from it.</summary>
public sealed class GenerationJob
{
    public Guid Id { get; set; }
    public required string OwnerId { get; set; }
    public ApplicationUser? Owner { get; set; }
    public JobState State { get; set; }
    public GenerationSettings Settings { get; set; } = new();
    public DateTimeOffset CreatedAt { get; set; }
    public DateTimeOffset? StartedAt { get; set; }
    public DateTimeOffset? FinishedAt { get; set; }
    public string? Error { get; set; }
    /// <summary>Parent image for remixes and variations (lineage); null for fresh prompts.</summary>
    public Guid? ParentImageId { get; set; }
    /// <summary>Which surface submitted it: "web", "api", "hub", later "a1111", "lab", ….</summary>
    public string Origin { get; set; } = "web";
    /// <summary>Free text about the client (e.g. an API client's User-Agent), shown with the images; null when unknown.</summary>
    public string? Client { get; set; }
    /// <summary>How many times the worker has started this job (a crash mid-run requeues it once).</summary>
    public int Attempts { get; set; }
    /// <summary>Images in the UNet call this job's run shared (its own included); null until it ran to the end.</summary>
    public int? BatchSize { get; set; }
    public List<GeneratedImage> Images { get; set; } = [];

    public bool IsFinished => State is JobState.Succeeded or JobState.Failed or JobState.Cancelled;
}
